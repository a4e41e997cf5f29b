"""The run lifecycle and a step's results: every state change one call, atomic on every backend
(SQL and HTTP alike), with time taken from the store's clock."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from modelplane.enums import ArtifactType, ExecutionStatus, ModelStages
from modelplane.errors import InvalidInputError, NotFoundError
from modelplane.metadata.records import NewArtifactLink, NewArtifactVersion, RunRecord
from modelplane.metadata.run_writes import SILENT_BEATS
from modelplane.metadata.sql.store import SqlMetadataStore
from modelplane.metadata.store import MetadataStore
from tests.store.state import snapshot


def _new_output(output: str, name: str | None = None) -> NewArtifactVersion:
    artifact_id = uuid.uuid4().hex
    return NewArtifactVersion(
        id=artifact_id,
        output=output,
        name=name or output,
        type=ArtifactType.DATA,
        materializer="modelplane.artifacts.materializers:JsonMaterializer",
        data_type="builtins.dict",
        uri=f"/artifacts/{artifact_id}",
        content_hash="sha256:" + "0" * 64,
        size=10,
        tags=["t"],
    )


def _link(version_id: str, output: NewArtifactVersion, **overrides: Any) -> NewArtifactLink:
    values: dict[str, Any] = {"name": output.name, "kind": ArtifactType.DATA, **overrides}
    return NewArtifactLink(model_version_id=version_id, artifact_version_id=output.id, **values)


# -- a step's results ---------------------------------------------------------------------------


def test_complete_step_run_records_outputs_links_and_completion_at_once(
    store: MetadataStore, run: RunRecord
) -> None:
    store.create_model("iris")
    version = store.create_model_version("iris")
    step = store.create_step_run(run_id=run.id, name="train", step_name="train")
    data, model = _new_output("data"), _new_output("model")

    completed = store.complete_step_run(
        step.id,
        artifacts=[data, model],
        links=[_link(version.id, data), _link(version.id, model, kind=ArtifactType.MODEL)],
        logs="trained\n",
    )

    assert completed.step_run.status is ExecutionStatus.COMPLETED
    assert completed.step_run.outputs == {"data": data.id, "model": model.id}
    assert {name: record.id for name, record in completed.outputs.items()} == {
        "data": data.id,
        "model": model.id,
    }
    assert completed.outputs["data"].producer_step_run_id == step.id
    assert completed.outputs["data"].tags == ["t"]
    assert store.get_step_run(step.id) == completed.step_run
    assert store.get_step_logs(step.id) == "trained\n"
    links = store.list_artifact_links("iris", version.number).items
    assert {(link.name, link.kind) for link in links} == {
        ("data", ArtifactType.DATA),
        ("model", ArtifactType.MODEL),
    }
    # One transaction, one time: the outputs carry the step's end time.
    assert completed.outputs["data"].created == completed.step_run.ended


@pytest.mark.parametrize(
    "broken", ["link to an unknown version", "unknown step run", "unknown step run, no links"]
)
def test_a_failure_between_the_parts_of_a_step_record_leaves_none_of_it(
    store: MetadataStore, run: RunRecord, broken: str
) -> None:
    store.create_model("iris")
    version = store.create_model_version("iris")
    step = store.create_step_run(run_id=run.id, name="train", step_name="train")
    data = _new_output("data")
    before = snapshot(store)

    with pytest.raises(NotFoundError):
        if broken == "unknown step run, no links":
            # The outputs are recorded first; closing the step run fails last (the path a local
            # store takes without SQLAlchemy, which hands the call back to the SQL store).
            store.complete_step_run("f" * 32, artifacts=[data], logs="x")
        elif broken == "unknown step run":
            # The outputs are recorded and linked first; closing the step run fails last.
            store.complete_step_run(
                "f" * 32, artifacts=[data], links=[_link(version.id, data)], logs="x"
            )
        else:
            # The outputs are recorded first; the second link fails.
            store.complete_step_run(
                step.id, artifacts=[data], links=[_link(version.id, data), _link("f" * 32, data)]
            )

    assert snapshot(store) == before
    with pytest.raises(NotFoundError):
        store.get_artifact_version(data.id)
    assert store.get_step_run(step.id).status is ExecutionStatus.RUNNING


def test_a_cache_hit_and_its_links_are_one_call(store: MetadataStore, run: RunRecord) -> None:
    store.create_model("iris")
    one, two = store.create_model_version("iris"), store.create_model_version("iris")
    first = store.create_step_run(run_id=run.id, name="load", step_name="load", cache_key="k")
    data = _new_output("data")
    store.complete_step_run(first.id, artifacts=[data], links=[_link(one.id, data)])
    before = snapshot(store)

    with pytest.raises(NotFoundError):  # the second link fails: no cached step run either
        store.create_step_run(
            run_id=run.id, name="load_2", step_name="load", status=ExecutionStatus.CACHED,
            outputs={"data": data.id}, cached_from=first.id,
            links=[_link(two.id, data), _link("f" * 32, data)],
        )
    assert snapshot(store) == before

    hit = store.create_step_run(
        run_id=run.id, name="load_2", step_name="load", status=ExecutionStatus.CACHED,
        outputs={"data": data.id}, cached_from=first.id, links=[_link(two.id, data)],
    )
    assert hit.status is ExecutionStatus.CACHED and hit.cached_from == first.id
    assert [link.artifact_version.id for link in store.list_artifact_links("iris", 2).items] == [data.id]


def test_complete_step_run_refuses_bad_input_and_changes_nothing(
    store: MetadataStore, run: RunRecord
) -> None:
    step = store.create_step_run(run_id=run.id, name="train", step_name="train")
    before = snapshot(store)
    with pytest.raises(InvalidInputError):
        store.complete_step_run(step.id, artifacts=[{"id": "x"}])  # type: ignore[list-item]
    assert snapshot(store) == before


# -- finishing a run ----------------------------------------------------------------------------


@pytest.fixture
def doomed(store: MetadataStore) -> tuple[RunRecord, str, str]:
    """A run that created version 2 of ``iris`` (to discard on failure) and uses version 1."""
    store.create_model("iris")
    kept, made = store.create_model_version("iris"), store.create_model_version("iris")
    pipeline = store.save_pipeline("train", {})
    run = store.create_run(
        pipeline_id=pipeline.id,
        model_version_id=made.id,
        linked_versions=[kept.id],
        discard_on_failure=[made.id],
        host="gpu-box-1",
        pid=4242,
        heartbeat_seconds=30,
    )
    return run, kept.id, made.id


def test_run_lifecycle_inputs_are_recorded_on_the_run(
    store: MetadataStore, doomed: tuple[RunRecord, str, str]
) -> None:
    run, kept, made = doomed
    assert store.get_run(run.id).discard_on_failure == [made]
    assert store.get_run(run.id).heartbeat_seconds == 30.0
    assert "discard_on_failure" not in run.config
    assert [r.id for r in store.list_model_version_runs("iris", kept).items] == [run.id]
    assert [r.id for r in store.list_model_version_runs("iris", made).items] == [run.id]


def test_a_failed_run_takes_its_new_versions_and_running_steps_with_it(
    store: MetadataStore, doomed: tuple[RunRecord, str, str]
) -> None:
    run, kept, made = doomed
    done = store.create_step_run(run_id=run.id, name="load", step_name="load")
    store.finish_step_run(done.id, status=ExecutionStatus.COMPLETED)
    store.create_step_run(run_id=run.id, name="train", step_name="train")

    failed = store.finish_run(run.id, ExecutionStatus.FAILED, error="boom")

    assert failed.status is ExecutionStatus.FAILED and failed.error == "boom"
    assert [v.id for v in store.list_model_versions("iris").items] == [kept]
    steps = {s.name: s.status for s in store.list_step_runs(run.id)}
    assert steps == {"load": ExecutionStatus.COMPLETED, "train": ExecutionStatus.FAILED}


def test_a_completed_run_keeps_its_new_versions(
    store: MetadataStore, doomed: tuple[RunRecord, str, str]
) -> None:
    run, _, made = doomed
    store.finish_run(run.id, ExecutionStatus.COMPLETED)
    assert store.get_model_version("iris", made).number == 2


def test_create_run_refuses_bad_lifecycle_inputs_and_changes_nothing(
    store: MetadataStore, run: RunRecord
) -> None:
    before = snapshot(store)
    for bad in (0, -1, "30", True):
        with pytest.raises(InvalidInputError, match="heartbeat_seconds"):
            store.create_run(pipeline_id=run.pipeline_id, heartbeat_seconds=bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="discard_on_failure"):
        store.create_run(pipeline_id=run.pipeline_id, discard_on_failure="abc")  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        store.create_run(pipeline_id=run.pipeline_id, discard_on_failure=["f" * 32])
    with pytest.raises(NotFoundError):
        store.create_run(pipeline_id=run.pipeline_id, linked_versions=["f" * 32])
    assert snapshot(store) == before


# -- reaping abandoned runs ---------------------------------------------------------------------


def test_reaping_fails_the_runs_named_gone_once(
    store: MetadataStore, doomed: tuple[RunRecord, str, str]
) -> None:
    run, kept, _ = doomed
    other = store.create_run(pipeline_id=run.pipeline_id, host="gpu-box-1", pid=7)

    reaped = store.reap_abandoned_runs(gone=[run.id], reaper="laptop")

    assert [r.id for r in reaped] == [run.id]
    after = store.get_run(run.id)
    assert after.status is ExecutionStatus.FAILED
    assert "process 4242 on gpu-box-1" in (after.error or "")
    assert "by laptop" in (after.error or "")
    assert [v.id for v in store.list_model_versions("iris").items] == [kept]
    assert store.get_run(other.id).status is ExecutionStatus.RUNNING
    assert store.reap_abandoned_runs(gone=[run.id]) == []  # once
    assert store.reap_abandoned_runs(gone=["f" * 32]) == []  # unknown ids are no error


def test_reaping_leaves_finished_and_recently_beating_runs_alone(
    store: MetadataStore, run: RunRecord
) -> None:
    beating = store.create_run(pipeline_id=run.pipeline_id, heartbeat_seconds=30)
    finished = store.finish_run(run.id, ExecutionStatus.COMPLETED)

    assert store.reap_abandoned_runs(gone=[run.id]) == []
    assert store.get_run(run.id) == finished
    assert store.get_run(beating.id).status is ExecutionStatus.RUNNING
    with pytest.raises(InvalidInputError):
        store.reap_abandoned_runs(gone="abc")  # type: ignore[arg-type]


class _Clock:
    """A store clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> _Clock:
    return _Clock()


@pytest.fixture
def clocked(sql_store: SqlMetadataStore, clock: _Clock) -> Any:
    """The same database as ``sql_store``, opened with a clock the test moves."""
    opened = SqlMetadataStore(sql_store.url, clock=clock)
    yield opened
    opened.close()


def test_silence_is_judged_by_the_stores_clock(clocked: SqlMetadataStore, clock: _Clock) -> None:
    pipeline = clocked.save_pipeline("train", {})
    run = clocked.create_run(pipeline_id=pipeline.id, host="gone-node", pid=9, heartbeat_seconds=30)
    assert run.heartbeat == run.created == clock.now
    allowed = timedelta(seconds=SILENT_BEATS * 30)

    clock.now += allowed - timedelta(seconds=1)
    assert clocked.reap_abandoned_runs() == []
    clocked.heartbeat_run(run.id)
    assert clocked.get_run(run.id).heartbeat == clock.now

    clock.now += allowed + timedelta(seconds=1)
    reaped = clocked.reap_abandoned_runs(reaper="server")
    assert [r.id for r in reaped] == [run.id]
    assert "sent no heartbeat since" in (reaped[0].error or "")
    assert reaped[0].ended == clock.now


def test_runs_without_a_heartbeat_period_are_never_judged_by_silence(
    clocked: SqlMetadataStore, clock: _Clock
) -> None:
    pipeline = clocked.save_pipeline("train", {})
    run = clocked.create_run(pipeline_id=pipeline.id)
    clock.now += timedelta(days=365)
    assert clocked.reap_abandoned_runs() == []
    assert clocked.get_run(run.id).status is ExecutionStatus.RUNNING


def test_one_transaction_takes_one_time(clocked: SqlMetadataStore, clock: _Clock) -> None:
    clocked.create_model("iris")
    old = clocked.create_model_version("iris")
    new = clocked.create_model_version("iris")
    clocked.set_stage("iris", old.number, ModelStages.PRODUCTION)
    clock.now += timedelta(minutes=5)
    clocked.set_stage("iris", new.number, ModelStages.PRODUCTION, force=True)

    swap = clocked.list_stage_changes("iris", limit=2).items
    assert {change.created for change in swap} == {clock.now}
    assert clocked.get_stage_holder_at("iris", ModelStages.PRODUCTION, clock.now).id == new.id


def test_versions_record_who_created_them(store: MetadataStore) -> None:
    store.create_model("iris")
    made = store.create_model_version("iris", created_by="ana")
    ensured = store.ensure_model_version("iris", "candidate", created_by="ana")

    assert made.created_by == "ana"
    assert ensured.version.created_by == "ana" and ensured.created
    assert store.get_model_version("iris", made.number).created_by == "ana"


def test_a_creator_name_is_checked(sql_store: MetadataStore) -> None:
    sql_store.create_model("iris")
    with pytest.raises(InvalidInputError, match="creator"):
        sql_store.create_model_version("iris", created_by="x" * 300)
    assert sql_store.list_model_versions("iris").total == 0
