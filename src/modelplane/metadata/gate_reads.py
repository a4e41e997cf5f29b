"""What a model's gates read of a version, written once over a transaction: its metadata, the last,
min and max of its metric series, and the input signature of its newest linked model artifact.

Both stores run it on the statements declared for it (``metric_series.*``,
``model_version.signatures``): the SQL store in its transaction, the local store on ``sqlite3``, so a
gated promotion from a step needs no SQLAlchemy. The series summaries are also what
``list_metric_series`` shows and what version comparison lines up.

No SQLAlchemy here (an import contract holds it to that).
"""

from __future__ import annotations

from typing import Any

from modelplane.enums import ModelStages
from modelplane.gates import failed_gates, parse_gate
from modelplane.metadata.reads import Row
from modelplane.metadata.run_writes import Transaction
from modelplane.signatures import SIGNATURE_KEY

__all__ = ["SERIES_PARTS", "gate_failures", "gate_view", "series_of", "series_values"]

# What a gate can ask of a series: ``val_loss.min <= current``.
SERIES_PARTS = ("last", "min", "max")


def series_of(tx: Transaction, model_version_id: str) -> list[Row]:
    """A summary of every series of a version, by key: ``key``, ``count``, ``last`` (the value at
    the highest step, the newest point among equals), ``last_step``, ``min`` and ``max``."""
    params = {"model_version_id": model_version_id}
    summary = tx.rows("metric_series.summary", params)
    if not summary:
        return []
    last = {row["key"]: row for row in tx.rows("metric_series.last", params)}
    return [
        {**row, "last": last[row["key"]]["value"], "last_step": last[row["key"]]["step"]}
        for row in summary
    ]


def series_values(tx: Transaction, model_version_id: str) -> dict[str, float]:
    """``{"loss.last": …, "loss.min": …, "loss.max": …}`` for every series of a version."""
    values: dict[str, float] = {}
    for series in series_of(tx, model_version_id):
        for part in SERIES_PARTS:
            values[f"{series['key']}.{part}"] = series[part]
    return values


def gate_view(tx: Transaction, version: Row, rules: list[str]) -> dict[str, Any]:
    """What gates read of a version (a row shaped like ``ModelVersionRecord``): its metadata and,
    when a rule asks (``loss.min``), the last, min and max of its metric series (metadata of the
    same name wins), and the signature of its model (``signature.…``)."""
    view = dict(version["metadata"] or {})
    gates = [parse_gate(rule) for rule in rules]
    if any(gate.key.rpartition(".")[2] in SERIES_PARTS for gate in gates):
        for key, value in series_values(tx, version["id"]).items():
            view.setdefault(key, value)
    if any(gate.reads_signature for gate in gates) and SIGNATURE_KEY not in view:
        for linked in tx.rows("model_version.signatures", {"version_id": version["id"]}):
            meta = linked["meta"]
            if isinstance(meta, dict) and SIGNATURE_KEY in meta:
                view[SIGNATURE_KEY] = meta[SIGNATURE_KEY]
                break
    return view


def gate_failures(
    tx: Transaction, model_row: Row, version: Row, holder: Row | None, target: ModelStages
) -> list[str]:
    """Why the gates of ``target`` refuse the version (checked in the caller's transaction,
    against the holder it locked); empty when they let it in."""
    rules = (model_row["gates"] or {}).get(target.value)
    if not rules:
        return []
    current = gate_view(tx, holder, rules) if holder is not None else None
    label = f"version {holder['number']}, now in {target}" if holder is not None else ""
    return failed_gates(rules, gate_view(tx, version, rules), current, current_label=label)
