"""Small, safe previews of artifact values for the dashboard.

Only materializers that cannot run code are ever loaded (JSON, bytes, ``.npy`` without pickles,
Parquet); pickles, scikit-learn models and third-party materializers are described from their
recorded metadata instead. Values over ``max_bytes`` are not loaded either. numpy and pandas are
never imported here: they come with the loaded value.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from modelplane.artifacts.materializers import (
    BUILTINS,
    INTEGRATIONS,
    is_pickle_materializer,
    load_value,
)
from modelplane.metadata.records import ArtifactVersionRecord

__all__ = ["PREVIEW_MAX_BYTES", "SAFE_MATERIALIZERS", "preview_artifact"]

PREVIEW_MAX_BYTES = 64 << 20
ROWS = 10
ARRAY_ITEMS = 20
TEXT_CHARS = 4000
BYTES_SHOWN = 64

# Materializers whose ``load`` only parses data. Everything else is described, never loaded.
SAFE_MATERIALIZERS = frozenset(
    name
    for key, name in {**BUILTINS, **INTEGRATIONS}.items()
    if key.startswith(("builtins.", "numpy.", "pandas.")) and not is_pickle_materializer(name)
)
# Types a preview may import by the recorded name; any other recorded type loads as ``object``.
_SAFE_TYPE_ROOTS = ("builtins", "numpy", "pandas")


def _describe(record: ArtifactVersionRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "name": record.name,
        "version": record.version,
        "type": record.type.value,
        "materializer": record.materializer,
        "data_type": record.data_type,
        "size": record.size,
        "metadata": record.metadata,
        "loaded": False,
        "reason": None,
        "preview": None,
    }


def _not_loaded_reason(record: ArtifactVersionRecord, max_bytes: int) -> str | None:
    if is_pickle_materializer(record.materializer):
        return "Stored as a pickle: loading it would run code, so the server never does."
    if record.materializer not in SAFE_MATERIALIZERS:
        return (
            f"{record.materializer} is not a built-in data materializer; "
            "shown from metadata only."
        )
    if record.size > max_bytes:
        return f"{record.size} bytes is over the preview limit of {max_bytes} bytes."
    return None


def preview_artifact(
    artifact_store: Any, record: ArtifactVersionRecord, *, max_bytes: int = PREVIEW_MAX_BYTES
) -> dict[str, Any]:
    """A JSON-able description of the artifact version, with a value preview when it is safe."""
    described = _describe(record)
    reason = _not_loaded_reason(record, max_bytes)
    if reason is not None:
        described["reason"] = reason
        return described
    data_type = record.data_type
    if re.split(r"[.:]", data_type, maxsplit=1)[0] not in _SAFE_TYPE_ROOTS:
        data_type = "builtins:object"
    value = load_value(
        artifact_store,
        uri=record.uri,
        materializer=record.materializer,
        data_type=data_type,
        size=record.size,
    )
    described["loaded"] = True
    described["preview"] = summarize(value)
    return described


def summarize(value: Any) -> dict[str, Any]:
    """Shape, type and the first few items of a loaded value."""
    kind = type(value).__module__.partition(".")[0]
    if kind == "pandas":
        return _summarize_pandas(value)
    if kind == "numpy":
        return _summarize_numpy(value)
    if isinstance(value, (bytes, bytearray)):
        return {"kind": "bytes", "length": len(value), "head_hex": bytes(value[:BYTES_SHOWN]).hex()}
    text = json.dumps(value, ensure_ascii=False, default=repr, indent=2)
    return {
        "kind": "json",
        "python_type": type(value).__name__,
        "text": text[:TEXT_CHARS],
        "truncated": len(text) > TEXT_CHARS,
    }


def _cells(frame: Any) -> dict[str, Any]:
    split = json.loads(frame.to_json(orient="split", date_format="iso", default_handler=str))
    columns = [str(c) for c in split["columns"]]
    return {"columns": columns, "index": split["index"], "rows": split["data"]}


def _summarize_pandas(value: Any) -> dict[str, Any]:
    if hasattr(value, "columns"):
        head = _cells(value.head(ROWS))
        return {
            "kind": "dataframe",
            "shape": list(value.shape),
            "dtypes": {str(name): str(dtype) for name, dtype in value.dtypes.items()},
            **head,
        }
    head = _cells(value.head(ROWS).to_frame(name="value"))
    return {
        "kind": "series",
        "shape": list(value.shape),
        "name": None if value.name is None else str(value.name),
        "dtypes": {"value": str(value.dtype)},
        **head,
    }


def _json_number(item: Any) -> Any:
    if isinstance(item, float) and not math.isfinite(item):
        return str(item)
    if isinstance(item, (int, float, bool, str)) or item is None:
        return item
    return str(item)


def _summarize_numpy(value: Any) -> dict[str, Any]:
    shape = list(getattr(value, "shape", ()))
    flat = value.reshape(-1)[:ARRAY_ITEMS] if shape else [value]
    items = [_json_number(item.item() if hasattr(item, "item") else item) for item in flat]
    count = int(getattr(value, "size", 1))
    return {
        "kind": "array",
        "shape": shape,
        "dtype": str(value.dtype),
        "head": items,
        "truncated": count > ARRAY_ITEMS,
    }
