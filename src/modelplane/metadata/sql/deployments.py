"""Deployments in the SQL store: services register, report on a period, and end or fall silent.

A service's liveness is judged by the store's clock only: ``last_seen`` is stamped by the
transaction that records a report, and a service silent for ``SILENT_REPORTS`` of its report
periods reads as ``gone`` (``reap_gone_deployments`` records it).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from modelplane.enums import SINGLE_HOLDER_STAGES, ModelStages
from modelplane.errors import InvalidInputError, NotFoundError
from modelplane.metadata.deployment_records import (
    DeploymentEvent,
    DeploymentRecord,
    DeploymentReport,
    NewDeployment,
)
from modelplane.metadata.reads import check_page
from modelplane.metadata.records import Page
from modelplane.metadata.arguments import parse_records
from modelplane.metadata.event_writes import enqueue_event
from modelplane.metadata.sql.resolve import find_model, find_version
from modelplane.metadata.sql.rows import new_id, page, utcnow
from modelplane.metadata.sql.run_statements import SqlTransaction
from modelplane.metadata.sql.tables import deployments, models
from modelplane.metadata.sql.transactions import StoreCore
from modelplane.metadata.store_deployments import CANARY_CUT_OFF, SILENT_REPORTS

__all__ = ["DeploymentsMixin"]

MAX_EVENTS = 100
_LIVE = ("starting", "serving")
_SELECT = sa.select(deployments, models.c.name.label("model_name")).join(
    models, models.c.id == deployments.c.model_id
)


def _silent(row: Row[Any], now: datetime) -> bool:
    return now - row.last_seen > timedelta(seconds=SILENT_REPORTS * row.report_seconds)


def _record(row: Row[Any], now: datetime) -> DeploymentRecord:
    values = dict(row._mapping)
    if values["status"] in _LIVE and _silent(row, now):
        values["status"] = "gone"
    return DeploymentRecord.model_validate(values)


def _stage(stage: ModelStages | None, what: str) -> str | None:
    if stage is None:
        return None
    if stage not in SINGLE_HOLDER_STAGES:
        raise InvalidInputError(
            f"A deployment's {what} must be a stage one version holds, not '{stage}'.",
            hint=f"Use {' or '.join(SINGLE_HOLDER_STAGES)}, or pin a version number.",
        )
    return stage.value


def _check_new(new: NewDeployment) -> None:
    if (new.stage is None) == (new.version is None):
        raise InvalidInputError(
            "A deployment follows a stage or serves a pinned version: give exactly one.",
            hint="For example stage='production', or version=3.",
        )
    if (new.canary_stage is None) != (new.canary_percent is None):
        raise InvalidInputError(
            "A canary needs both its stage and its share of requests.",
            hint="For example canary_stage='staging', canary_percent=10.",
        )
    if new.canary_stage is not None and new.canary_stage == new.stage:
        raise InvalidInputError(
            f"The canary stage '{new.canary_stage}' is the stage the deployment follows.",
            hint="Send the canary share to the other stage (e.g. staging when following production).",
        )
    parts = urlsplit(new.endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInputError(
            f"The deployment endpoint {new.endpoint!r} is not an http(s) URL.",
            hint="Give the address clients call, e.g. http://10.0.0.5:8080.",
        )


def _number_to_id(conn: Connection, model: Row[Any], number: int | None) -> str | None:
    if number is None:
        return None
    return find_version(conn, model, number).id


class DeploymentsMixin(StoreCore):
    def register_deployment(self, deployment: NewDeployment) -> DeploymentRecord:
        new = parse_records([deployment], NewDeployment, "deployments")[0]
        _check_new(new)
        stage = _stage(new.stage, "stage")
        canary = _stage(new.canary_stage, "canary stage")

        def work(conn: Connection) -> DeploymentRecord:
            model = find_model(conn, new.model)
            if new.version is not None:
                find_version(conn, model, new.version)
            now = utcnow()
            values = {
                "id": new_id(),
                "model_id": model.id,
                "stage": stage,
                "pinned_version": new.version,
                "artifact": new.artifact,
                "endpoint": new.endpoint,
                "host": new.host,
                "pid": new.pid,
                "status": "starting",
                "canary_stage": canary,
                "canary_percent": new.canary_percent,
                "canary_state": "active" if canary else None,
                "max_error_rate": new.max_error_rate,
                "traffic": {},
                "events": [],
                "report_seconds": new.report_seconds,
                "created": now,
                "last_seen": now,
            }
            conn.execute(deployments.insert().values(**values))
            return DeploymentRecord.model_validate({**values, "model_name": model.name})

        return self.write(work)

    def report_deployment(self, deployment_id: str, report: DeploymentReport) -> DeploymentRecord:
        sent = parse_records([report], DeploymentReport, "reports")[0]

        def work(conn: Connection) -> DeploymentRecord:
            row = self._find(conn, deployment_id, lock=True)
            if row.status == "stopped":
                raise InvalidInputError(
                    f"Deployment {deployment_id!r} has stopped; it takes no more reports.",
                    hint="A service that starts again registers a new deployment.",
                )
            model = find_model(conn, row.model_id)
            now = utcnow()
            version_id = _number_to_id(conn, model, sent.version)
            canary_id = _number_to_id(conn, model, sent.canary_version)
            new_events = [
                event.model_copy(update={"at": now}).model_dump(mode="json") for event in sent.events
            ]
            values: dict[str, Any] = {
                "status": sent.status,
                "version": sent.version,
                "model_version_id": version_id,
                "serving_since": row.serving_since if sent.version == row.version else (
                    now if sent.version is not None else None
                ),
                "canary_version": sent.canary_version,
                "canary_version_id": canary_id,
                "canary_state": sent.canary_state if row.canary_stage else None,
                "traffic": {key: value.model_dump() for key, value in sent.traffic.items()},
                "events": (list(row.events) + new_events)[-MAX_EVENTS:],
                "message": sent.message,
                "last_seen": now,
                "ended": now if sent.status == "stopped" else None,
            }
            conn.execute(deployments.update().where(deployments.c.id == row.id).values(**values))
            for event in sent.events:
                if event.kind == "canary_cut_off":
                    self._announce_cut_off(conn, row, model, event, now)
            return DeploymentRecord.model_validate({**row._mapping, **values})

        return self.write(work)

    def _announce_cut_off(
        self, conn: Connection, row: Row[Any], model: Row[Any], event: DeploymentEvent, now: datetime
    ) -> None:
        payload = {
            "event": CANARY_CUT_OFF,
            "deployment_id": row.id,
            "model": model.name,
            "model_id": model.id,
            "endpoint": row.endpoint,
            "canary_stage": row.canary_stage,
            "version": event.version,
            "message": event.message,
            "time": now.isoformat(),
        }
        enqueue_event(SqlTransaction(conn), CANARY_CUT_OFF, payload, model.name, row.canary_stage, now)

    def get_deployment(self, deployment_id: str) -> DeploymentRecord:
        return self.read(lambda conn: _record(self._find(conn, deployment_id), utcnow()))

    def list_deployments(
        self,
        *,
        model: str | None = None,
        version: Any = None,
        include_ended: bool = False,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[DeploymentRecord]:
        check_page(limit, offset)
        if version is not None and model is None:
            raise InvalidInputError(
                "A deployment listing by version needs the model too.",
                hint="Pass model=NAME with version=.",
            )

        def work(conn: Connection) -> Page[DeploymentRecord]:
            query = _SELECT
            if model is not None:
                model_row = find_model(conn, model)
                query = query.where(deployments.c.model_id == model_row.id)
                if version is not None:
                    version_id = find_version(conn, model_row, version).id
                    query = query.where(
                        sa.or_(
                            deployments.c.model_version_id == version_id,
                            deployments.c.canary_version_id == version_id,
                        )
                    )
            if not include_ended:
                query = query.where(deployments.c.status.in_(_LIVE))
            query = query.order_by(deployments.c.created.desc(), deployments.c.id.desc())
            now = utcnow()
            found = [_record(row, now) for row in conn.execute(query)]
            if not include_ended:
                found = [record for record in found if record.status != "gone"]
            return page(found[offset : offset + limit], len(found), limit, offset)

        return self.read(work)

    def reap_gone_deployments(self) -> list[DeploymentRecord]:
        def work(conn: Connection) -> list[DeploymentRecord]:
            now = utcnow()
            rows = conn.execute(_SELECT.where(deployments.c.status.in_(_LIVE))).all()
            gone = [row for row in rows if _silent(row, now)]
            for row in gone:
                conn.execute(
                    deployments.update()
                    .where(deployments.c.id == row.id, deployments.c.status.in_(_LIVE))
                    .values(status="gone", ended=row.last_seen)
                )
            return [
                DeploymentRecord.model_validate({**row._mapping, "status": "gone", "ended": row.last_seen})
                for row in gone
            ]

        return self.write(work)

    def _find(self, conn: Connection, deployment_id: str, *, lock: bool = False) -> Row[Any]:
        query = _SELECT.where(deployments.c.id == deployment_id)
        row = conn.execute(query.with_for_update(of=deployments) if lock else query).first()
        if row is None:
            raise NotFoundError(
                f"Deployment {deployment_id!r} does not exist.",
                hint="List deployments with `modelplane model version deployments MODEL VERSION`.",
            )
        return row
