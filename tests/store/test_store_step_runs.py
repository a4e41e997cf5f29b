"""Contract: step runs, their logs, and the step cache lookup."""

from __future__ import annotations

import pytest

from modelplane.enums import ExecutionStatus
from modelplane.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from modelplane.metadata.records import RunRecord
from modelplane.metadata.store import MetadataStore
from tests.store.state import ArtifactFactory, snapshot


def test_create_step_run_records_its_inputs_and_settings(
    store: MetadataStore, run: RunRecord, make_artifact: ArtifactFactory
) -> None:
    data = make_artifact("dataset")

    step = store.create_step_run(
        run_id=run.id,
        name="trainer_2",
        step_name="trainer",
        cache_key="k1",
        source_hash="s1",
        parameters={"gamma": 0.1},
        inputs={"data": data.id},
        upstream=["loader"],
    )

    assert step.status is ExecutionStatus.RUNNING and step.ended is None
    assert (step.run_id, step.name, step.step_name) == (run.id, "trainer_2", "trainer")
    assert (step.cache_key, step.source_hash, step.parameters) == ("k1", "s1", {"gamma": 0.1})
    assert (step.inputs, step.outputs, step.upstream) == ({"data": data.id}, {}, ["loader"])
    assert store.get_step_run(step.id) == step


def test_a_cache_hit_is_created_finished_with_its_outputs(
    store: MetadataStore, run: RunRecord, make_artifact: ArtifactFactory
) -> None:
    original = store.create_step_run(run_id=run.id, name="a", step_name="a", cache_key="k")
    model = make_artifact("model", producer_step_run_id=original.id)
    store.finish_step_run(
        original.id, status=ExecutionStatus.COMPLETED, outputs={"output": model.id}
    )

    hit = store.create_step_run(
        run_id=run.id,
        name="a_2",
        step_name="a",
        status=ExecutionStatus.CACHED,
        cache_key="k",
        outputs={"output": model.id},
        cached_from=original.id,
    )

    assert hit.status is ExecutionStatus.CACHED and hit.ended is not None
    assert (hit.outputs, hit.cached_from) == ({"output": model.id}, original.id)
    assert store.get_step_run(hit.id) == hit


def test_create_step_run_refuses_bad_references_and_changes_nothing(
    store: MetadataStore, run: RunRecord
) -> None:
    store.create_step_run(run_id=run.id, name="load", step_name="load")
    before = snapshot(store)

    with pytest.raises(AlreadyExistsError, match="'load'"):
        store.create_step_run(run_id=run.id, name="load", step_name="load")
    with pytest.raises(NotFoundError):
        store.create_step_run(run_id="f" * 32, name="x", step_name="x")
    with pytest.raises(NotFoundError, match="artifact version"):
        store.create_step_run(run_id=run.id, name="x", step_name="x", inputs={"data": "f" * 32})
    with pytest.raises(InvalidInputError):
        store.create_step_run(run_id=run.id, name="", step_name="x")
    with pytest.raises(InvalidInputError, match="cache key"):
        store.create_step_run(run_id=run.id, name="x", step_name="x", cache_key="k" * 129)
    with pytest.raises(InvalidInputError, match="cached_from"):
        store.create_step_run(run_id=run.id, name="x", step_name="x", cached_from="yesterday")
    with pytest.raises(InvalidInputError):
        store.create_step_run(run_id=run.id, name="x", step_name="x", status="bored")  # type: ignore[arg-type]
    assert snapshot(store) == before


def test_finish_step_run_records_outputs_logs_and_error(
    store: MetadataStore, run: RunRecord, make_artifact: ArtifactFactory
) -> None:
    step = store.create_step_run(run_id=run.id, name="train", step_name="train")
    model = make_artifact("model", producer_step_run_id=step.id)
    logs = "epoch 1\n" * 20_000  # longer than a 64 KB TEXT column

    finished = store.finish_step_run(
        step.id,
        status=ExecutionStatus.FAILED,
        outputs={"model": model.id},
        logs=logs,
        error="Traceback…",
    )

    assert finished.status is ExecutionStatus.FAILED
    assert (finished.outputs, finished.error) == ({"model": model.id}, "Traceback…")
    assert finished.ended is not None
    assert store.get_step_logs(step.id) == logs
    assert store.get_step_run(step.id) == finished


def test_finish_step_run_replaces_an_output_of_the_same_name(
    store: MetadataStore, run: RunRecord, make_artifact: ArtifactFactory
) -> None:
    first, second = make_artifact(), make_artifact()
    step = store.create_step_run(run_id=run.id, name="s", step_name="s", outputs={"out": first.id})

    finished = store.finish_step_run(
        step.id, status=ExecutionStatus.COMPLETED, outputs={"out": second.id}
    )

    assert finished.outputs == {"out": second.id}


def test_finish_step_run_rejects_bad_input_and_changes_nothing(
    store: MetadataStore, run: RunRecord
) -> None:
    step = store.create_step_run(run_id=run.id, name="s", step_name="s")
    before = snapshot(store)

    with pytest.raises(InvalidInputError):
        store.finish_step_run(step.id, status=ExecutionStatus.RUNNING)
    with pytest.raises(NotFoundError):
        store.finish_step_run(step.id, status=ExecutionStatus.COMPLETED, outputs={"out": "f" * 32})
    with pytest.raises(NotFoundError):
        store.finish_step_run("f" * 32, status=ExecutionStatus.COMPLETED)
    assert snapshot(store) == before


def test_step_logs_are_empty_until_written(store: MetadataStore, run: RunRecord) -> None:
    step = store.create_step_run(run_id=run.id, name="s", step_name="s")

    assert store.get_step_logs(step.id) == ""
    with pytest.raises(NotFoundError):
        store.get_step_logs("f" * 32)
    with pytest.raises(NotFoundError):
        store.get_step_run("f" * 32)


def test_list_step_runs_in_creation_order(
    store: MetadataStore, run: RunRecord, make_artifact: ArtifactFactory
) -> None:
    names = ["load", "split", "train", "evaluate"]
    for name in names:
        store.create_step_run(run_id=run.id, name=name, step_name=name)
    other = store.create_run(pipeline_id=run.pipeline_id)
    store.create_step_run(run_id=other.id, name="load", step_name="load")

    assert [s.name for s in store.list_step_runs(run.id)] == names
    assert [s.name for s in store.list_step_runs(run.name)] == names
    with pytest.raises(NotFoundError):
        store.list_step_runs("f" * 32)


def test_find_cached_step_run_returns_the_newest_finished_one(
    store: MetadataStore, run: RunRecord, make_artifact: ArtifactFactory
) -> None:
    old = store.create_step_run(run_id=run.id, name="a", step_name="a", cache_key="k")
    store.finish_step_run(
        old.id, status=ExecutionStatus.COMPLETED, outputs={"out": make_artifact().id}
    )
    new = store.create_step_run(run_id=run.id, name="b", step_name="a", cache_key="k")
    store.finish_step_run(
        new.id, status=ExecutionStatus.COMPLETED, outputs={"out": make_artifact().id}
    )
    failed = store.create_step_run(run_id=run.id, name="c", step_name="a", cache_key="k")
    store.finish_step_run(failed.id, status=ExecutionStatus.FAILED)
    store.create_step_run(run_id=run.id, name="d", step_name="a", cache_key="k")  # still running

    found = store.find_cached_step_run("k")

    assert found is not None and found.id == new.id
    assert store.find_cached_step_run("other") is None


def test_find_cached_step_run_accepts_a_cached_step_run(
    store: MetadataStore, run: RunRecord, make_artifact: ArtifactFactory
) -> None:
    out = make_artifact()
    hit = store.create_step_run(
        run_id=run.id,
        name="a",
        step_name="a",
        status=ExecutionStatus.CACHED,
        cache_key="k",
        outputs={"o": out.id},
    )

    found = store.find_cached_step_run("k")

    assert found is not None and found.id == hit.id


def test_find_cached_step_run_skips_runs_whose_outputs_were_deleted(
    store: MetadataStore, run: RunRecord, make_artifact: ArtifactFactory
) -> None:
    kept = store.create_step_run(run_id=run.id, name="a", step_name="a", cache_key="k")
    store.finish_step_run(
        kept.id, status=ExecutionStatus.COMPLETED, outputs={"out": make_artifact().id}
    )
    lost = store.create_step_run(run_id=run.id, name="b", step_name="a", cache_key="k")
    gone = make_artifact()
    store.finish_step_run(
        lost.id, status=ExecutionStatus.COMPLETED, outputs={"out": gone.id, "x": make_artifact().id}
    )

    store.delete_artifact_version(gone.id)

    found = store.find_cached_step_run("k")
    assert found is not None and found.id == kept.id
    assert store.get_step_run(lost.id).outputs.keys() == {"x"}
