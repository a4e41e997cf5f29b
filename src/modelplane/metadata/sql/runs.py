"""Pipelines, pipeline runs and step runs in the SQL store, and the step cache lookup.

These writes happen once per step, so each is one short transaction that builds its record from
the values it wrote instead of reading them back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelplane.enums import ExecutionStatus
from modelplane.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from modelplane.metadata import reads
from modelplane.metadata.reads import parse_status
from modelplane.metadata.records import (
    NewArtifactLink,
    Page,
    PipelineRecord,
    RunRecord,
    StepRunRecord,
)
from modelplane.metadata.sql import direct
from modelplane.metadata.sql.arguments import (
    check_dict,
    check_ids,
    parse_records,
    check_text,
    parse_finished_status,
)
from modelplane.metadata.sql.resolve import (
    artifact_version_exists,
    find_model,
    find_pipeline,
    find_run,
    find_step_run,
    find_version_by_id,
    looks_like_id,
)
from modelplane.metadata.sql.rows import (
    STEP_RUN_SELECT,
    new_id,
    records_page,
    run_record,
    step_run_records,
    utcnow,
)
from modelplane.metadata.sql.metrics import replay_metric_points
from modelplane.metadata.sql.step_changes import replay_step_changes, step_meta
from modelplane.metadata.sql.tables import (
    model_version_runs,
    pipeline_runs,
    pipelines,
    step_run_artifacts,
    step_runs,
)
from modelplane.metadata.sql.transactions import StoreCore
from modelplane.versioning import check_name

__all__ = ["RunsMixin"]

# Per-step statements, built once with bind parameters (see resolve.py for why).
# The run a new step run belongs to, and whether the step name is taken in it: one query.
_STEP_NAME_TAKEN = (
    sa.select(step_runs.c.id)
    .where(step_runs.c.run_id == pipeline_runs.c.id, step_runs.c.name == sa.bindparam("name"))
    .exists()
)
_RUN_FOR_STEP = {
    key: sa.select(pipeline_runs.c.id, pipeline_runs.c.name, _STEP_NAME_TAKEN.label("taken")).where(
        column == sa.bindparam("key")
    )
    for key, column in (("id", pipeline_runs.c.id), ("name", pipeline_runs.c.name))
}
# Every link of one step run, deleted artifacts (NULL ids) included.
_LINKS_OF_STEP = sa.select(
    step_run_artifacts.c.direction,
    step_run_artifacts.c.name,
    step_run_artifacts.c.artifact_version_id,
).where(step_run_artifacts.c.step_run_id == sa.bindparam("id"))
_UPDATE_STEP_RUN = step_runs.update().where(step_runs.c.id == sa.bindparam("b_id"))
_DELETE_OUTPUTS = step_run_artifacts.delete().where(
    step_run_artifacts.c.step_run_id == sa.bindparam("step_run_id"),
    step_run_artifacts.c.direction == "output",
    step_run_artifacts.c.name.in_(sa.bindparam("names", expanding=True)),
)
_STEP_RUN_BY_ID = STEP_RUN_SELECT.where(step_runs.c.id == sa.bindparam("id"))
_STEP_RUN_BY_ID_LOCKED = _STEP_RUN_BY_ID.with_for_update()
_RUN_NAME_TAKEN = sa.select(pipeline_runs.c.id).where(pipeline_runs.c.name == sa.bindparam("name"))
_UPDATE_RUN = pipeline_runs.update().where(pipeline_runs.c.id == sa.bindparam("b_id"))
# An output whose artifact version was deleted is still linked, with a NULL id (ON DELETE SET
# NULL); such a step run cannot serve a cache hit.
_LOST_OUTPUT = (
    sa.select(step_run_artifacts.c.id)
    .where(
        step_run_artifacts.c.step_run_id == step_runs.c.id,
        step_run_artifacts.c.direction == "output",
        step_run_artifacts.c.artifact_version_id.is_(None),
    )
    .exists()
)
_CACHED = (
    STEP_RUN_SELECT.where(
        step_runs.c.cache_key == sa.bindparam("cache_key"),
        step_runs.c.status.in_([ExecutionStatus.COMPLETED.value, ExecutionStatus.CACHED.value]),
        ~_LOST_OUTPUT,
    )
    .order_by(step_runs.c.created.desc(), step_runs.c.id.desc())
    .limit(1)
)


def _artifact_rows(step_run_id: str, direction: str, links: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "step_run_id": step_run_id,
            "direction": direction,
            "name": name,
            "artifact_version_id": av_id,
        }
        for name, av_id in links.items()
    ]


def _check_links(links: dict[str, str] | None, what: str) -> dict[str, str]:
    links = dict(links or {})
    for name, av_id in links.items():
        check_name(name, what)
        if not isinstance(av_id, str):
            raise InvalidInputError(
                f"The {what} {name!r} must map to an artifact version id, not {av_id!r}.",
                hint="Pass the id (a string) of a stored artifact version.",
            )
    return links


def _logs(logs: str | None) -> dict[str, str]:
    # Finishing without logs keeps whatever was written before.
    return {} if logs is None else {"logs": logs}


def _check_step_run_id(value: str | None) -> str | None:
    if value is not None and not looks_like_id(value):
        raise InvalidInputError(
            f"cached_from={value!r} is not a step run id.",
            hint="Pass the id of the step run whose outputs the cache hit reuses.",
        )
    return value


class RunsMixin(StoreCore):
    # -- pipelines ----------------------------------------------------------------------------

    def save_pipeline(self, name: str, spec: dict[str, Any]) -> PipelineRecord:
        check_name(name, "pipeline")
        spec = check_dict(spec, "pipeline spec")

        def work(conn: Connection) -> PipelineRecord:
            now = utcnow()
            row = conn.execute(sa.select(pipelines).where(pipelines.c.name == name)).first()
            if row is None:
                values = {
                    "id": new_id(),
                    "name": name,
                    "spec": spec,
                    "created": now,
                    "updated": now,
                }
                conn.execute(pipelines.insert().values(**values))
                return PipelineRecord.model_validate(values)
            conn.execute(
                pipelines.update().where(pipelines.c.id == row.id).values(spec=spec, updated=now)
            )
            return PipelineRecord.model_validate({**row._mapping, "spec": spec, "updated": now})

        return self.write(work)

    def get_pipeline(self, pipeline: str) -> PipelineRecord:
        return self.read(
            lambda conn: PipelineRecord.model_validate(dict(find_pipeline(conn, pipeline)._mapping))
        )

    def list_pipelines(
        self, *, name: str | None = None, limit: int = 50, offset: int = 0
    ) -> Page[PipelineRecord]:
        found = self.reading(
            lambda run: reads.list_pipelines(run, name=name, limit=limit, offset=offset)
        )
        return records_page(PipelineRecord, found)

    def delete_pipeline(self, pipeline: str) -> None:
        def work(conn: Connection) -> None:
            row = find_pipeline(conn, pipeline)
            # Runs and step runs go by CASCADE; artifact versions stay (producer set NULL).
            conn.execute(pipelines.delete().where(pipelines.c.id == row.id))

        self.write(work)

    # -- runs ---------------------------------------------------------------------------------

    def create_run(
        self,
        *,
        pipeline_id: str,
        name: str | None = None,
        parameters: dict[str, Any] | None = None,
        config: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
        orchestrator: str = "local",
        model_version_id: str | None = None,
        linked_versions: Sequence[str] = (),
        discard_on_failure: Sequence[str] = (),
        host: str | None = None,
        pid: int | None = None,
        heartbeat_seconds: float | None = None,
    ) -> RunRecord:
        if name is not None:
            check_name(name, "run")
        check_name(orchestrator, "orchestrator")
        check_text(orchestrator, "orchestrator name", 64)
        if host is not None:
            check_text(host, "run host", 255)
        if pid is not None and (isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0):
            raise InvalidInputError(
                f"The run's pid must be a positive integer, not {pid!r}.",
                hint="Pass os.getpid() of the process driving the run, or leave it out.",
            )
        if heartbeat_seconds is not None and (
            isinstance(heartbeat_seconds, bool)
            or not isinstance(heartbeat_seconds, (int, float))
            or not heartbeat_seconds > 0
        ):
            raise InvalidInputError(
                f"The run's heartbeat_seconds must be a positive number, not {heartbeat_seconds!r}.",
                hint="Pass how often the process driving the run beats, or leave it out.",
            )
        linked = check_ids(linked_versions, "linked_versions (versions linked to the run)")
        doomed = check_ids(
            discard_on_failure, "discard_on_failure (versions to discard when the run fails)"
        )
        values: dict[str, Any] = {
            "heartbeat_seconds": None if heartbeat_seconds is None else float(heartbeat_seconds),
            "discard_on_failure": doomed,
            "parameters": check_dict(parameters, "run parameters"),
            "config": check_dict(config, "run config"),
            "extra": check_dict(extra, "run extra"),
            "orchestrator": orchestrator,
            "status": ExecutionStatus.RUNNING.value,
            "model_version_id": model_version_id,
            "host": host,
            "pid": pid,
        }

        def work(conn: Connection) -> RunRecord:
            pipeline_row = find_pipeline(conn, pipeline_id)
            versions = list(dict.fromkeys([*([model_version_id] if model_version_id else []), *linked]))
            for version_id in {*versions, *doomed}:
                find_version_by_id(conn, version_id)
            now = utcnow()
            run_id = new_id()
            run_name = name or f"{pipeline_row.name[:200]}-{now:%Y_%m_%d-%H_%M_%S}-{run_id[:6]}"
            if name is not None and conn.execute(_RUN_NAME_TAKEN, {"name": name}).first():
                raise AlreadyExistsError(
                    f"A run named {name!r} already exists.", hint="Pick another run name."
                )
            row = {
                **values,
                "id": run_id,
                "name": run_name,
                "pipeline_id": pipeline_row.id,
                "created": now,
                "heartbeat": now,
            }
            conn.execute(pipeline_runs.insert(), row)
            if versions:
                conn.execute(
                    model_version_runs.insert(),
                    [{"model_version_id": v, "run_id": run_id, "created": now} for v in versions],
                )
            return RunRecord.model_validate({**row, "pipeline_name": pipeline_row.name})

        return self.write(work)

    def get_run(self, run: str) -> RunRecord:
        return self.read(lambda conn: run_record(find_run(conn, run)))

    def list_runs(
        self,
        *,
        pipeline: str | None = None,
        status: ExecutionStatus | None = None,
        model: str | None = None,
        host: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[RunRecord]:
        def explain(conn: Connection) -> Any:
            if pipeline is not None:
                find_pipeline(conn, pipeline)
            if model is not None:
                find_model(conn, model)
            raise AssertionError("a filter matched nothing, yet both exist")

        found = self.reading(
            lambda run: reads.list_runs(
                run,
                pipeline=pipeline,
                status=status,
                model=model,
                host=host,
                limit=limit,
                offset=offset,
            ),
            explain,
        )
        return records_page(RunRecord, found)

    def delete_run(self, run: str) -> None:
        def work(conn: Connection) -> None:
            row = find_run(conn, run)
            conn.execute(pipeline_runs.delete().where(pipeline_runs.c.id == row.id))

        self.write(work)

    # -- step runs ----------------------------------------------------------------------------

    def create_step_run(
        self,
        *,
        run_id: str,
        name: str,
        step_name: str,
        status: ExecutionStatus = ExecutionStatus.RUNNING,
        cache_key: str | None = None,
        source_hash: str | None = None,
        parameters: dict[str, Any] | None = None,
        inputs: dict[str, str] | None = None,
        upstream: Sequence[str] = (),
        outputs: dict[str, str] | None = None,
        cached_from: str | None = None,
        links: Sequence[NewArtifactLink] = (),
        replay_to: str | None = None,
    ) -> StepRunRecord:
        if replay_to is not None and cached_from is None:
            raise InvalidInputError(
                f"replay_to={replay_to!r} is given for step run {name!r}, which is not a cache hit.",
                hint="Pass cached_from= (the step run whose changes are replayed) with replay_to=.",
            )
        if links:
            wanted = parse_records(links, NewArtifactLink, "links")

            def with_links(store: Any) -> StepRunRecord:
                created = store.create_step_run(
                    run_id=run_id, name=name, step_name=step_name, status=status,
                    cache_key=cache_key, source_hash=source_hash, parameters=parameters,
                    inputs=inputs, upstream=upstream, outputs=outputs, cached_from=cached_from,
                    replay_to=replay_to,
                )
                store._make_links(wanted)
                return created  # type: ignore[no-any-return]

            return self.atomically(with_links)
        check_name(name, "step run")
        check_name(step_name, "step")
        parsed = parse_status(status)
        ins, outs = _check_links(inputs, "step input"), _check_links(outputs, "step output")
        values: dict[str, Any] = {
            "name": name,
            "step_name": step_name,
            "status": parsed.value,
            "cache_key": check_text(cache_key, "cache key", 128),
            "source_hash": check_text(source_hash, "source hash", 128),
            "parameters": check_dict(parameters, "step parameters"),
            "upstream": [check_name(item, "upstream step") for item in upstream],
            "cached_from": _check_step_run_id(cached_from),
        }

        def work(conn: Connection) -> StepRunRecord:
            run_row = None
            if looks_like_id(run_id):
                run_row = direct.first(conn, _RUN_FOR_STEP["id"], {"key": run_id, "name": name})
            if run_row is None:
                run_row = direct.first(conn, _RUN_FOR_STEP["name"], {"key": run_id, "name": name})
            if run_row is None:
                find_run(conn, run_id)  # raises the NotFoundError
            assert run_row is not None
            artifact_version_exists(conn, [*ins.values(), *outs.values()], f"step run {name!r}")
            if run_row["taken"]:
                raise AlreadyExistsError(
                    f"Run {run_row['name']!r} already has a step run {name!r}.",
                    hint="Give each step invocation in a run its own name.",
                )
            now = utcnow()
            row = {
                **values,
                "id": new_id(),
                "run_id": run_row["id"],
                "meta": {},
                "created": now,
                "ended": now if parsed.is_finished else None,
            }
            direct.insert(conn, step_runs, row)
            links = _artifact_rows(row["id"], "input", ins) + _artifact_rows(
                row["id"], "output", outs
            )
            direct.insert(conn, step_run_artifacts, links)
            row.pop("meta")
            metadata: dict[str, Any] = {}
            if values["cached_from"] is not None:
                replay_step_changes(conn, values["cached_from"], row["id"], replay_to)
                replay_metric_points(
                    conn, values["cached_from"], row["id"], run_row["id"], replay_to
                )
                metadata = step_meta(conn, row["id"])
            return StepRunRecord.model_validate(
                {**row, "inputs": ins, "outputs": outs, "metadata": metadata}
            )

        return self.write(work)

    def finish_step_run(
        self,
        step_run_id: str,
        *,
        status: ExecutionStatus,
        outputs: dict[str, str] | None = None,
        logs: str | None = None,
        error: str | None = None,
    ) -> StepRunRecord:
        parsed = parse_finished_status(status)
        outs = _check_links(outputs, "step output")

        def work(conn: Connection) -> StepRunRecord:
            row = direct.first(conn, _STEP_RUN_BY_ID_LOCKED, {"id": step_run_id})
            if row is None:
                find_step_run(conn, step_run_id)  # raises the NotFoundError
            assert row is not None
            artifact_version_exists(conn, list(outs.values()), f"step run {row['name']!r}")
            links: dict[str, dict[str, str | None]] = {"input": {}, "output": {}}
            for link in direct.rows(conn, _LINKS_OF_STEP, {"id": row["id"]}):
                links[link["direction"]][link["name"]] = link["artifact_version_id"]
            values: dict[str, Any] = {"status": parsed.value, "ended": utcnow(), "error": error}
            direct.execute(conn, _UPDATE_STEP_RUN, {"b_id": row["id"], **values, **_logs(logs)})
            replaced = [link_name for link_name in outs if link_name in links["output"]]
            if replaced:
                conn.execute(_DELETE_OUTPUTS, {"step_run_id": row["id"], "names": replaced})
            direct.insert(
                conn, step_run_artifacts, _artifact_rows(row["id"], "output", outs)
            )
            links["output"].update(outs)
            found = {
                d: {k: v for k, v in named.items() if v is not None} for d, named in links.items()
            }
            return StepRunRecord.model_validate(
                {**row, **values, "inputs": found["input"], "outputs": found["output"]}
            )

        return self.write(work)

    def get_step_run(self, step_run_id: str) -> StepRunRecord:
        def work(conn: Connection) -> StepRunRecord:
            row = conn.execute(_STEP_RUN_BY_ID, {"id": step_run_id}).first()
            if row is None:
                find_step_run(conn, step_run_id)  # raises the NotFoundError
            assert row is not None
            return step_run_records(conn, [row])[0]

        return self.read(work)

    def list_step_runs(self, run_id: str) -> list[StepRunRecord]:
        def work(conn: Connection) -> list[StepRunRecord]:
            run_row = find_run(conn, run_id)
            rows = conn.execute(
                STEP_RUN_SELECT.where(step_runs.c.run_id == run_row.id).order_by(
                    step_runs.c.created.asc(), step_runs.c.id.asc()
                )
            ).all()
            return step_run_records(conn, rows)

        return self.read(work)

    def get_step_logs(self, step_run_id: str) -> str:
        def work(conn: Connection) -> str:
            row = conn.execute(
                sa.select(step_runs.c.logs).where(step_runs.c.id == step_run_id)
            ).first()
            if row is None:
                raise NotFoundError(
                    f"Step run {step_run_id!r} does not exist.",
                    hint="Its run may have been deleted; list a run's steps with "
                    "`modelplane run show RUN`.",
                )
            return row.logs or ""

        return self.read(work)

    def find_cached_step_run(self, cache_key: str) -> StepRunRecord | None:
        def work(conn: Connection) -> StepRunRecord | None:
            row = conn.execute(_CACHED, {"cache_key": cache_key}).first()
            return None if row is None else step_run_records(conn, [row])[0]

        return self.read(work)
