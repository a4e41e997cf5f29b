"""What a model's gates read of a version, in the SQL store: its metadata, the last, min and max
of its metric series, and the input signature of its newest model artifact."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from modelplane.enums import ArtifactType, ModelStages
from modelplane.gates import failed_gates, parse_gate
from modelplane.metadata.reads import Row
from modelplane.metadata.sql.series import SERIES_PARTS, series_values
from modelplane.metadata.sql.tables import artifact_versions, model_version_artifacts
from modelplane.signatures import SIGNATURE_KEY

__all__ = ["gate_failures", "gate_view"]

# The input signature of a version is that of its newest linked model artifact that has one.
_MODEL_SIGNATURES = (
    sa.select(artifact_versions.c.meta)
    .join(model_version_artifacts, model_version_artifacts.c.artifact_version_id == artifact_versions.c.id)
    .where(
        model_version_artifacts.c.model_version_id == sa.bindparam("version_id"),
        model_version_artifacts.c.kind == ArtifactType.MODEL.value,
    )
    .order_by(model_version_artifacts.c.created.desc())
)


def gate_view(conn: Connection, version: Row, rules: list[str]) -> dict[str, Any]:
    """What gates read of a version (a row shaped like ``ModelVersionRecord``): its metadata and,
    when a rule asks (``loss.min``), the last, min and max of its metric series (metadata of the
    same name wins)."""
    view = dict(version["metadata"] or {})
    gates = [parse_gate(rule) for rule in rules]
    if any(gate.key.rpartition(".")[2] in SERIES_PARTS for gate in gates):
        for key, value in series_values(conn, version["id"]).items():
            view.setdefault(key, value)
    if any(gate.reads_signature for gate in gates) and SIGNATURE_KEY not in view:
        for linked in conn.execute(_MODEL_SIGNATURES, {"version_id": version["id"]}):
            if isinstance(linked.meta, dict) and SIGNATURE_KEY in linked.meta:
                view[SIGNATURE_KEY] = linked.meta[SIGNATURE_KEY]
                break
    return view


def gate_failures(
    conn: Connection, model_row: Row, version: Row, holder: Row | None, target: ModelStages
) -> list[str]:
    """Why the gates of ``target`` refuse the version (checked in the caller's transaction,
    against the holder it locked); empty when they let it in."""
    rules = (model_row["gates"] or {}).get(target.value)
    if not rules:
        return []
    current = gate_view(conn, holder, rules) if holder is not None else None
    label = f"version {holder['number']}, now in {target}" if holder is not None else ""
    return failed_gates(rules, gate_view(conn, version, rules), current, current_label=label)
