"""The local store (``metadata/local_store.py``): a pipeline's writes on a SQLite file without
SQLAlchemy, stored exactly as the SQL store stores them.

The contract suite runs every store test on it too (the ``local`` backend); these tests check
what the suite cannot see: that the local path is the one taken, that the SQL store reads back
exactly what it wrote, and that a whole pipeline process never imports SQLAlchemy.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from modelplane.enums import ArtifactType, ExecutionStatus
from modelplane.errors import NotFoundError, PromotionBlockedError, StageConflictError
from modelplane.metadata.local_store import LightTransaction, LocalStore, _Statement
from modelplane.metadata.record_base import Record, record_fields
from modelplane.metadata.records import NewArtifactVersion, Page
from modelplane.metadata.sql import direct
from modelplane.metadata.sql.catalogue import compile_catalogue
from modelplane.metadata.sql.run_statements import STATEMENTS
from modelplane.metadata.sql.store import SqlMetadataStore
from modelplane.metadata.store_types import STEP_CHANGES_KEY
from tests.store.backends import local_store


def _output(output: str) -> NewArtifactVersion:
    av_id = uuid.uuid4().hex
    return NewArtifactVersion(
        output=output, id=av_id, name=f"train.{output}", type=ArtifactType.DATA,
        materializer="builtin.json", data_type="builtins.dict", uri=f"file:///tmp/{av_id}",
        content_hash="sha256:00", size=3, metadata={"rows": 3, "nested": {"a": [1, None]}},
    )  # fmt: skip


def _same_as_validated(made: object) -> None:
    """A record the local store made without validating it (``metadata/row_records.py``) holds
    what validating its fields gives: equal values, of the same types, nested records included."""
    if isinstance(made, (list, tuple)):
        for item in made:
            _same_as_validated(item)
        return
    if isinstance(made, dict):
        _same_as_validated(list(made.values()))
        return
    if isinstance(made, Page):  # the class of a page does not know its items' type
        _same_as_validated(made.items)
        return
    if not isinstance(made, Record):
        return
    validated = type(made).model_validate({name: getattr(made, name) for name in record_fields(type(made))})
    assert made == validated
    for name in record_fields(type(made)):
        ours, theirs = getattr(made, name), getattr(validated, name)
        assert type(ours) is type(theirs), f"{type(made).__name__}.{name}: {ours!r} vs {theirs!r}"
        _same_as_validated(ours)


def test_a_pipelines_calls_run_locally_and_read_back_the_same_through_the_sql_store(
    tmp_path: Path,
) -> None:
    with local_store(tmp_path) as store:
        assert isinstance(store, LocalStore)
        pipeline = store.save_pipeline("train", {"dag": {"a": {"step": "a"}}})
        pipeline = store.save_pipeline("train", {"dag": {"b": {"step": "b"}}})  # replaces the spec
        run = store.create_run(
            pipeline_id=pipeline.id, parameters={"lr": 0.1}, config={"enable_cache": True},
            host="here", pid=os.getpid(), heartbeat_seconds=30,
        )  # fmt: skip
        step = store.create_step_run(
            run_id=run.name, name="a", step_name="a", cache_key="k" * 64, parameters={"n": 1}
        )
        done = store.complete_step_run(step.id, artifacts=[_output("data")], logs="hello\n")
        hit = store.find_cached_step_run("k" * 64)
        again = store.create_step_run(
            run_id=run.id, name="a_again", step_name="a", status=ExecutionStatus.CACHED,
            cache_key="k" * 64, outputs=hit.outputs, cached_from=hit.id,
        )  # fmt: skip
        store.heartbeat_run(run.id)
        assert store.reap_abandoned_runs() == []
        running = store.list_runs(status=ExecutionStatus.RUNNING, host="here")
        finished = store.finish_run(run.id, ExecutionStatus.COMPLETED)
        loaded = store.get_artifact_version(done.outputs["data"].id)

        assert store._full_store is None, "a call was handed to the SQL store"
        _same_as_validated([pipeline, run, step, done, hit, again, running, finished, loaded])
        assert [r.id for r in running.items] == [run.id]
        assert hit.id == step.id and hit.outputs == {"data": loaded.id}
        assert loaded.version == 1 and loaded.metadata == {"rows": 3, "nested": {"a": [1, None]}}
        assert finished.status is ExecutionStatus.COMPLETED and finished.ended is not None
        assert again.cached_from == step.id and again.outputs == hit.outputs

        sql = SqlMetadataStore(store.url)
        try:
            assert sql.get_pipeline("train") == pipeline
            assert sql.get_run(run.id) == finished
            assert sql.get_artifact_version(loaded.id) == loaded == done.outputs["data"]
            steps = {s.name: s for s in sql.list_step_runs(run.id)}
            assert steps["a"] == done.step_run
            assert steps["a_again"] == again
            assert sql.get_step_logs(step.id) == "hello\n"
            # Numbering goes on where the other left off, either way round.
            second = _output("data")
            assert sql.create_artifact_version(**second.model_dump(exclude={"output"})).version == 2
            third = _output("data")
            assert store.create_artifact_version(**third.model_dump(exclude={"output"})).version == 3
        finally:
            sql.close()


def test_a_models_versions_and_links_are_made_locally_and_read_back_the_same(
    tmp_path: Path,
) -> None:
    with local_store(tmp_path) as store:
        card = {"license": "MIT", "tags": ["team-a"]}
        first = store.ensure_model_version("m", None, model_card=card, tags=["v"], created_by="ann")
        named = store.ensure_model_version("m", "exp", model_card={"tags": ["team-b"]})
        again = store.ensure_model_version("m", "exp")
        latest = store.ensure_model_version("m", "latest")
        manual = store.create_model_version("m", name="manual", metadata={"k": [1]})
        run = store.create_run(
            pipeline_id=store.save_pipeline("train", {}).id, model_version_id=first.version.id
        )
        step = store.create_step_run(run_id=run.id, name="a", step_name="a", cache_key="c" * 64)
        data = _output("data")
        link = {"model_version_id": first.version.id, "artifact_version_id": data.id}
        done = store.complete_step_run(
            step.id, artifacts=[data], links=[{**link, "name": "data", "kind": ArtifactType.DATA}]
        )
        same = store.link_artifact(**link, name="data", kind=ArtifactType.DATA)
        replaced = store.link_artifact(**link, name="model", kind="model", overwrite=True)
        hit = store.create_step_run(
            run_id=run.id, name="a_again", step_name="a", status=ExecutionStatus.CACHED,
            outputs={"data": data.id}, cached_from=step.id, replay_to=named.version.id,
            links=[{**link, "model_version_id": named.version.id, "name": "data", "kind": "data"}],
        )  # fmt: skip

        by_name = store.list_artifact_links("m", 1)
        by_ids = store.list_artifact_links(first.version.model_id, first.version.id, name="model")
        of_kind = store.list_artifact_links("m", "exp", kind=ArtifactType.DATA)
        assert store._full_store is None, "a call was handed to the SQL store"
        _same_as_validated([first, named, again, latest, manual, run, step, done, same, replaced, hit])
        _same_as_validated([by_name, by_ids, of_kind])
        assert (by_name.total, by_ids.total, of_kind.total) == (2, 1, 1)
        assert [link.id for link in by_ids] == [replaced.id]
        assert (first.created, named.created, again.created, latest.created) == (True, True, False, False)
        assert [first.version.number, named.version.number, manual.number] == [1, 2, 3]
        assert (first.version.name, named.version.name, first.version.created_by) == ("1", "exp", "ann")
        assert again.version == named.version and latest.version.id == named.version.id
        assert hit.cached_from == step.id and done.outputs["data"].id == data.id

        sql = SqlMetadataStore(store.url)
        try:
            model = sql.get_model("m")
            assert (model.license, model.tags) == ("MIT", ["team-a", "team-b"])
            for version in (first.version, named.version, manual):
                assert sql.get_model_version("m", version.number) == version
            links = sql.list_artifact_links("m", 1).items
            assert sorted(links, key=lambda found: found.name) == [same, replaced]
            assert list(by_name) == links and list(of_kind) == sql.list_artifact_links("m", 2).items
            assert same.artifact_version == done.outputs["data"]
            assert [found.name for found in sql.list_artifact_links("m", "exp").items] == ["data"]
            # Numbering goes on where the other left off.
            assert sql.ensure_model_version("m", None).version.number == 4
            assert store.ensure_model_version("m", None).version.number == 5
        finally:
            sql.close()


def test_what_a_step_logs_is_written_locally_and_read_back_the_same(tmp_path: Path) -> None:
    with local_store(tmp_path) as store:
        version = store.ensure_model_version("m", None).version
        run = store.create_run(pipeline_id=store.save_pipeline("train", {}).id, model_version_id=version.id)
        step = store.create_step_run(run_id=run.id, name="fit", step_name="fit")
        data = store.complete_step_run(step.id, artifacts=[_output("data")]).outputs["data"]
        owners = {"model_version_id": version.id, "run_id": run.id, "step_run_id": step.id}
        points = [{"key": "loss", "value": 1.0 / (i + 1), "step": i, **owners} for i in range(5)]
        logged = store.log_metrics([*points, {"key": "acc", "value": 1, "step": 0, "run_id": run.id}])
        for target, target_id in (
            ("model_version", version.id), ("artifact_version", data.id),
            ("step_run", step.id), ("run", run.id),
        ):  # fmt: skip
            store.add_metadata(target, target_id, {"eval": {"f1": 0.8}, "n": 1})
            store.add_metadata(target, target_id, {"eval": {"auc": 0.9}, "n": 2})
        store.add_metadata("model_version", version.id, {"by_step": True}, step_run_id=step.id)
        store.add_metadata("model_version", version.id, {"eval": {"auc": 0.95}}, step_run_id=step.id)
        with pytest.raises(NotFoundError, match="The run 'nope' of a metric point does not exist"):
            store.log_metrics([{"key": "loss", "value": 1.0, "step": 9, "run_id": "nope", **{
                k: v for k, v in owners.items() if k != "run_id"
            }}])  # fmt: skip
        with pytest.raises(NotFoundError, match="Artifact version 'nope' does not exist"):
            store.add_metadata("artifact_version", "nope", {"a": 1})
        assert store._full_store is None, "a call was handed to the SQL store"

        sql = SqlMetadataStore(store.url)
        try:
            assert logged == 6
            merged = {"eval": {"f1": 0.8, "auc": 0.9}, "n": 2}
            assert sql.get_model_version("m", 1).metadata == {
                **merged, "by_step": True, "eval": {"f1": 0.8, "auc": 0.95}
            }
            assert sql.get_artifact_version(data.id).metadata == {**data.metadata, **merged}
            assert sql.get_run(run.id).extra == merged
            step_meta = sql.get_step_run(step.id).metadata
            assert {k: v for k, v in step_meta.items() if k != STEP_CHANGES_KEY} == merged
            assert step_meta[STEP_CHANGES_KEY] == {"metadata": {"by_step": True, "eval": {"auc": 0.95}}}
            [series] = sql.list_metric_series("m", 1)
            assert (series.key, series.count, series.last, series.last_step) == ("loss", 5, 0.2, 4)
            history = sql.get_metric_history("m", 1, "loss").items
            assert [(p.step, p.value, p.run_id, p.step_run_id) for p in history] == [
                (i, 1.0 / (i + 1), run.id, step.id) for i in range(5)
            ]
            assert all(p.created.tzinfo is not None for p in history)
            # The SQL store logs onto what the local store logged, and the other way round.
            sql.add_metadata("run", run.id, {"eval": {"f1": 0.7}})
            store.add_metadata("run", run.id, {"last": "local"})
            assert sql.get_run(run.id).extra == {"eval": {"f1": 0.7, "auc": 0.9}, "n": 2, "last": "local"}
        finally:
            sql.close()


def test_promotions_are_made_locally_and_read_back_the_same(tmp_path: Path) -> None:
    with local_store(tmp_path) as store:
        first = store.ensure_model_version("m", None).version
        second = store.ensure_model_version("m", None).version
        run = store.create_run(pipeline_id=store.save_pipeline("train", {}).id, model_version_id=second.id)
        step = store.create_step_run(run_id=run.id, name="promote", step_name="promote")
        promoted = store.set_stage("m", first.number, "production", actor="ann", reason="first")
        staged = store.set_stage("m", second.id, "staging")  # many may hold staging
        kept = store.set_stage("m", "production", "production")  # already there: no change
        with pytest.raises(StageConflictError, match="Version 1 of model 'm' already holds"):
            store.set_stage("m", 2, "production")
        with pytest.raises(StageConflictError, match="is held by version 1, not by nobody"):
            store.set_stage("m", 2, "production", force=True, expected_current=0)
        replaced = store.set_stage(
            "m", 2, "production", force=True, expected_current=1, reason="better", step_run_id=step.id
        )
        assert store._full_store is None, "a call was handed to the SQL store"
        _same_as_validated([promoted, staged, kept, replaced])
        assert (promoted.stage, staged.stage, kept.stage) == ("production", "staging", "production")
        assert kept == promoted
        assert replaced.stage == "production" and replaced.updated > second.updated

        sql = SqlMetadataStore(store.url)
        try:
            assert sql.get_model_version("m", "production") == replaced
            assert sql.get_model_version("m", 1).stage == "archived"
            history = sql.list_stage_changes("m").items
            assert [(c.version_number, c.from_stage, c.to_stage, c.actor, c.reason) for c in history] == [
                (2, "staging", "production", None, "better"),
                (1, "production", "archived", None, "replaced in production by version 2: better"),
                (2, "none", "staging", None, None),
                (1, "none", "production", "ann", "first"),
            ]
            assert history[0].created == history[1].created  # one change, one time
            assert sql.get_step_run(step.id).metadata[STEP_CHANGES_KEY] == {
                "stages": [{"stage": "production", "force": True, "reason": "better"}]
            }
            # A rollback (SQL store) walks back through the history the local store wrote.
            assert sql.rollback_stage("m", "production").number == 1
        finally:
            sql.close()


def test_a_promotion_through_gates_is_checked_locally_as_the_sql_store_checks_it(tmp_path: Path) -> None:
    """Gates read the version's metadata, its metric series and the holder's (``current``): all of
    it on sqlite3; a refusal is recorded in the history and nothing moves."""
    with local_store(tmp_path) as store:
        first = store.ensure_model_version("m", None).version
        second = store.ensure_model_version("m", None).version
        sql = SqlMetadataStore(store.url)
        try:
            sql.update_model("m", gates={"production": ["accuracy >= 0.9", "loss.min <= current"]})
        finally:
            sql.close()
        for version, accuracy, losses in ((first, 0.95, [0.5, 0.3, 0.4]), (second, 0.97, [0.6, 0.35])):
            store.add_metadata("model_version", version.id, {"accuracy": accuracy})
            store.log_metrics([
                {"key": "loss", "value": value, "step": i, "model_version_id": version.id}
                for i, value in enumerate(losses)
            ])  # fmt: skip
        assert store.set_stage("m", 1, "production").stage == "production"  # nobody holds it yet
        with pytest.raises(PromotionBlockedError, match=r"loss.min"):
            store.set_stage("m", 2, "production", force=True)  # 0.35 is worse than version 1's 0.3
        assert store._full_store is None  # both checked and recorded without the SQL store
        sql = SqlMetadataStore(store.url)
        try:
            assert [(v.number, v.stage) for v in sql.list_model_versions("m").items] == [
                (2, "none"), (1, "production")
            ]
            assert [(c.version_number, c.kind) for c in sql.list_stage_changes("m").items] == [
                (2, "refused"), (1, "move")
            ]
            with pytest.raises(PromotionBlockedError, match=r"loss.min"):  # the SQL store agrees
                sql.set_stage("m", 2, "production", force=True)
        finally:
            sql.close()


def test_a_promotion_heard_by_webhooks_queues_its_deliveries_locally(tmp_path: Path) -> None:
    """The history row and one pending delivery per matching webhook, in the move's transaction,
    with the payload the SQL store writes (a dispatcher sends them later)."""
    with local_store(tmp_path) as store:
        store.ensure_model_version("m", None)
        store.ensure_model_version("m", None)
        sql = SqlMetadataStore(store.url)
        try:
            hook = sql.create_webhook("http://127.0.0.1:9/hook", stages=["production"])
            other = sql.create_webhook("http://127.0.0.1:9/other", model="not-m")
        finally:
            sql.close()
        store.set_stage("m", 1, "staging")  # no webhook asks for staging
        store.set_stage("m", 1, "production", actor="ann", reason="ship it")
        store.set_stage("m", 2, "production", force=True)  # 1 archived: not asked for either
        assert store._full_store is None  # queued without the SQL store
        sql = SqlMetadataStore(store.url)
        try:
            sql.set_stage("m", 1, "production", force=True)  # the same move by the SQL store
            deliveries = sql.list_webhook_deliveries().items
            changes = {c.id: c for c in sql.list_stage_changes("m").items}
        finally:
            sql.close()
    assert {d.webhook_id for d in deliveries} == {hook.id} != {other.id}  # not the other model's
    payloads = sorted((d.payload for d in deliveries), key=lambda p: p["change_id"])
    assert [(p["version"], p["from_stage"], p["to_stage"], p["actor"]) for p in payloads] == [
        (1, "staging", "production", "ann"), (2, "none", "production", None), (1, "archived", "production", None)
    ]
    local, by_sql = payloads[0], payloads[2]
    assert set(local) == set(by_sql)  # the same payload, field for field
    change = changes[local["change_id"]]  # the history row it announces
    assert (local["model"], local["version_id"], local["reason"]) == ("m", change.model_version_id, "ship it")
    assert datetime.fromisoformat(local["time"]) == change.created
    assert all(d.status == "pending" and d.attempts == 0 for d in deliveries)


def test_a_cache_hit_logs_again_locally_what_its_step_logged_to_its_version(tmp_path: Path) -> None:
    with local_store(tmp_path) as store:
        first = store.ensure_model_version("m", None).version
        second = store.ensure_model_version("m", None).version
        pipeline_id = store.save_pipeline("train", {}).id
        run = store.create_run(pipeline_id=pipeline_id, model_version_id=first.id)
        step = store.create_step_run(run_id=run.id, name="fit", step_name="fit", cache_key="c" * 64)
        owners = {"model_version_id": first.id, "run_id": run.id, "step_run_id": step.id}
        store.log_metrics([{"key": "loss", "value": 0.5 - i / 10, "step": i, **owners} for i in range(3)])
        store.log_metrics([{"key": "own", "value": 1.0, "step": 0, "run_id": run.id, "step_run_id": step.id}])
        store.add_metadata("model_version", first.id, {"eval": {"auc": 0.9}}, step_run_id=step.id)
        store.set_stage("m", first.id, "staging", step_run_id=step.id)
        store.complete_step_run(step.id, artifacts=[_output("data")])
        store.add_metadata("model_version", second.id, {"eval": {"f1": 0.5}})

        again = store.create_run(pipeline_id=pipeline_id, model_version_id=second.id)
        hit = store.create_step_run(
            run_id=again.id, name="fit", step_name="fit", status=ExecutionStatus.CACHED,
            cache_key="c" * 64, cached_from=step.id, replay_to=second.id,
        )  # fmt: skip
        assert store._full_store is None, "a call was handed to the SQL store"
        noted = {"metadata": {"eval": {"auc": 0.9}}, "stages": [{"stage": "staging", "force": False}]}
        assert hit.metadata == {STEP_CHANGES_KEY: noted}

        sql = SqlMetadataStore(store.url)
        try:
            assert sql.get_step_run(hit.id).metadata == hit.metadata
            assert sql.get_model_version("m", 2).metadata == {"eval": {"f1": 0.5, "auc": 0.9}}
            copied = sql.get_metric_history("m", 2, "loss").items
            assert [(p.step, p.value, p.run_id, p.step_run_id) for p in copied] == [
                (i, 0.5 - i / 10, again.id, hit.id) for i in range(3)
            ]
            assert [s.key for s in sql.list_metric_series("m", 2)] == ["loss"]  # not the run's own
        finally:
            sql.close()


def test_a_version_that_must_exist_and_does_not_is_explained_by_the_sql_store(
    tmp_path: Path,
) -> None:
    with local_store(tmp_path) as store:
        store.ensure_model_version("m", None)
        assert store._full_store is None
        with pytest.raises(NotFoundError, match="has no version in stage 'production'"):
            store.ensure_model_version("m", "production")
        with pytest.raises(NotFoundError, match="Model 'nope' does not exist"):
            store.create_model_version("nope")
        assert store._full_store is not None
        assert [v.number for v in store.list_model_versions("m").items] == [1]


def test_what_the_local_path_cannot_answer_the_sql_store_does(tmp_path: Path) -> None:
    with local_store(tmp_path) as store:
        with pytest.raises(NotFoundError, match="Run 'nope' does not exist"):
            store.finish_run("nope", ExecutionStatus.COMPLETED)
        with pytest.raises(NotFoundError, match="Pipeline 'nope' does not exist"):
            store.create_run(pipeline_id="nope")
        assert store._full_store is not None  # it explained both


def test_the_local_path_is_off_when_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELPLANE_LIGHT_READS", "0")
    with local_store(tmp_path) as store:
        store.save_pipeline("train", {})
        assert store._full_store is not None


def _samples(kind: str | None) -> list[object]:
    moment = datetime(2026, 12, 4, 16, 5, 7, 89, tzinfo=timezone.utc)
    return {
        "time": [None, moment, moment.astimezone(timezone(timedelta(hours=5, minutes=30)))],
        "json": [None, {}, {"a": [1, 2.5, None, "é"], "b": {"c": True}}, ["x"], 3],
        "bool": [None, True, False],
        "float": [None, 1.5, 2],
    }.get(kind or "", ["text", 7, None])


def test_parameters_are_converted_as_sqlalchemy_converts_them(tmp_path: Path) -> None:
    """Each write statement's parameters become the very values SQLAlchemy would send, so the
    two stores write the same text and each reads what the other wrote."""
    catalogue = compile_catalogue()["writes"]
    with local_store(tmp_path) as store:
        sql = SqlMetadataStore(store.url)
        try:
            with sql._engine.connect() as conn:
                checked = 0
                for name, statement in STATEMENTS.items():
                    entry = catalogue[name]
                    ours = _Statement(entry)
                    names = [p for p in entry["params"] if p not in entry["fixed"]]
                    theirs = direct._compiled(
                        statement, conn.dialect, tuple(names) if statement.is_dml else None
                    )
                    assert theirs is not None, f"{name} would not run on the driver"
                    assert ours.sql == theirs.sql, name
                    for sample in range(3):
                        params = {}
                        for p in names:
                            values = _samples(entry["binds"].get(p))
                            params[p] = values[sample % len(values)]
                        assert ours.values(params) == direct._parameters(theirs, params), name
                        checked += 1
                assert checked >= 3 * 30
        finally:
            sql.close()


def test_results_are_read_as_sqlalchemy_reads_them(tmp_path: Path) -> None:
    with local_store(tmp_path) as store:
        pipeline = store.save_pipeline("p", {"x": [1, {"y": None}]})
        run = store.create_run(pipeline_id=pipeline.id, discard_on_failure=[])
        sql = SqlMetadataStore(store.url)
        try:
            with sql._engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
                raw = conn.connection.driver_connection
                tx = LightTransaction(raw, store._statements, store._reader)  # type: ignore[arg-type]
                for name in ("run.by_id", "runs.beating", "pipeline.by_name"):
                    key = run.id if name == "run.by_id" else "p"
                    ours = tx.rows(name, {"key": key})
                    theirs = direct.rows(conn, STATEMENTS[name], {"key": key})
                    assert ours == theirs, name
                    assert name == "runs.beating" or ours, f"{name} found nothing to compare"
        finally:
            sql.close()


_MODEL_PIPELINE = """
import sys
from typing import Annotated
from modelplane import Model, get_step_context, log_metadata, log_metrics, pipeline, step
from modelplane.artifacts.external_artifact import ExternalArtifact

@step
def train() -> Annotated[dict, "weights"]:
    for epoch in range(3):
        log_metrics({"loss": 1.0 / (epoch + 1)})
    return {"weights": [1, 2]}

@step
def evaluate(model: dict) -> float:
    log_metadata({"accuracy": 0.9}, infer_model=True)
    get_step_context().model_version.set_stage("production", force=True)
    return 0.9

@pipeline(model=Model(name="clf", tags=["demo"]))
def training() -> None:
    evaluate(train())

@step
def predict(model: dict) -> int:
    return len(model["weights"])

@pipeline(model=Model(name="clf", version="latest"))
def predicting() -> None:
    predict(model=ExternalArtifact(model_artifact_name="weights"))

training()
predicting()
print("sqlalchemy" in sys.modules)
"""


_LOGGING_STEP = """
import sys
from modelplane import Model, get_step_context, log_metadata, log_metrics, pipeline, step

@step(enable_cache=False)
def train() -> int:
    for epoch in range(3):
        log_metrics({"loss": 1.0 / (epoch + 1)})
    log_metadata({"accuracy": 0.9}, infer_model=True)
    get_step_context().model_version.set_stage("production", force=True)
    return 1

@pipeline(model=Model(name="clf"))
def training() -> None:
    train()

training()
print("sqlalchemy" in sys.modules, "pydantic" in sys.modules)
"""


def test_a_step_that_logs_and_promotes_runs_without_sqlalchemy_or_pydantic(tmp_path: Path) -> None:
    """Not a cache hit: the points, the metadata and the promotion are made in the process, the
    promotion through the model's gates and heard by a webhook."""
    script = tmp_path / "logging_step.py"
    script.write_text(_LOGGING_STEP)
    env = {**os.environ, "MODELPLANE_HOME": str(tmp_path / "home"), "MODELPLANE_LIGHT_READS": "1"}

    def run() -> str:
        done = subprocess.run(
            [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120, check=True
        )
        return done.stdout.strip().splitlines()[-1]

    assert run().startswith("True")  # the first made the store: migrations need SQLAlchemy
    sql = SqlMetadataStore(f"sqlite:///{tmp_path / 'home' / 'store.db'}")
    try:
        sql.update_model("clf", gates={"production": ["accuracy >= 0.9", "loss.min <= current"]})
        hook = sql.create_webhook("http://127.0.0.1:9/hook", stages=["production"])
        assert run() == "False False"
        versions = sql.list_model_versions("clf").items
        assert [(v.number, v.stage) for v in versions] == [(2, "production"), (1, "archived")]
        [loss] = sql.list_metric_series("clf", 2)
        assert (loss.count, loss.last, versions[0].metadata) == (3, 1 / 3, {"accuracy": 0.9})
        [delivery] = sql.list_webhook_deliveries().items
        assert (delivery.webhook_id, delivery.payload["version"]) == (hook.id, 2)
    finally:
        sql.close()


@pytest.mark.parametrize("with_model", [False, True], ids=["plain", "with a model"])
def test_a_pipeline_process_writes_without_importing_sqlalchemy_or_pydantic(
    tmp_path: Path, with_model: bool
) -> None:
    script = Path(__file__).parents[2] / "benchmarks" / "one_step_pipeline.py"
    if with_model:
        script = tmp_path / "model_pipeline.py"
        script.write_text(_MODEL_PIPELINE)
    code = (
        f"import runpy, sys; run = runpy.run_path({str(script)!r}, run_name='__main__'); "
        "print('sqlalchemy' in sys.modules, 'pydantic' in sys.modules)"
    )
    env = {**os.environ, "MODELPLANE_HOME": str(tmp_path / "home"), "MODELPLANE_LIGHT_READS": "1"}

    def run() -> str:
        result = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip().splitlines()[-1]

    first, second, third = run(), run(), run()
    assert first.startswith("True")  # the first creates the store: migrations need SQLAlchemy
    # A new step run and its output, then a cache hit: records without pydantic too.
    assert second == "False False"
    assert third == "False False"
    sql = SqlMetadataStore(f"sqlite:///{tmp_path / 'home' / 'store.db'}")
    try:
        runs = sql.list_runs(pipeline="training" if with_model else "one_step").items
        assert [r.status for r in runs] == [ExecutionStatus.COMPLETED] * 3
        statuses = sorted(s.status.value for r in runs for s in sql.list_step_runs(r.id))
        steps = len(statuses) // 3
        assert statuses == ["cached"] * 2 * steps + ["completed"] * steps
        if with_model:
            # Each training run made a version and linked both its outputs, cache hits included;
            # each prediction run found the latest version's weights by their link.
            versions = sql.list_model_versions("clf").items
            assert [v.number for v in versions] == [3, 2, 1]
            assert [v.stage for v in versions] == ["production", "archived", "archived"]
            for version in versions:
                links = sql.list_artifact_links("clf", version.number).items
                assert sorted(link.name for link in links) == ["output", "output", "weights"]
                assert sql.count_version_links("clf", version.number)["runs"] == 2
                # Logged by the steps, or again by their cache hits.
                assert version.metadata == {"accuracy": 0.9}
                [loss] = sql.list_metric_series("clf", version.number)
                assert (loss.key, loss.count, loss.last_step) == ("loss", 3, 2)
            predictions = sql.list_runs(pipeline="predicting").items
            assert [r.status for r in predictions] == [ExecutionStatus.COMPLETED] * 3
    finally:
        sql.close()
