"""Input signatures of models: the columns (and their dtypes) a model was fitted on. Pure; no I/O.

A signature is stored as artifact metadata ``input_signature``::

    {"columns": [{"name": "sepal length (cm)", "dtype": "float64"}, ...]}

(``dtype`` is ``None`` when unknown). The step runner infers one for each model output made from a
DataFrame (``infer``), or takes the one declared with ``ArtifactConfig(input_signature=...)``
(``declared``); the inference service checks requests against it; the promotion gate
``signature compatible`` refuses a version whose signature would break the clients of the
stage's holder (``breaks``). Nothing here imports pandas: frames are recognised by their
``columns`` and ``dtypes``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from modelplane.errors import InvalidInputError

__all__ = ["SIGNATURE_KEY", "breaks", "declared", "dtype_kind", "infer", "names"]

SIGNATURE_KEY = "input_signature"
_MAX_COLUMNS = 10_000
_DECLARE_HINT = (
    "Declare it as a mapping of column to dtype ({'age': 'int64', 'income': 'float64'}) or a "
    "list of column names."
)
# Which dtype kinds a client sending one kind may send to a model fitted on another: an integer
# column reads as float, nothing else converts without loss or surprise.
_ACCEPTS = {"float": {"float", "integer", "bool"}, "integer": {"integer", "bool"}}


def dtype_kind(dtype: str | None) -> str | None:
    """``integer``, ``float``, ``bool``, ``string``, ``datetime`` or ``other`` for a dtype name."""
    if dtype is None:
        return None
    text = str(dtype).lower()
    if text.startswith(("int", "uint")):
        return "integer"
    if text.startswith(("float", "double")):
        return "float"
    if text.startswith(("bool",)):
        return "bool"
    if text.startswith(("datetime", "timestamp")):
        return "datetime"
    if text in ("object", "string", "str", "category") or text.startswith("string"):
        return "string"
    return "other"


def _columns(frame: Any) -> list[tuple[str, str]] | None:
    columns, dtypes = getattr(frame, "columns", None), getattr(frame, "dtypes", None)
    if columns is None or dtypes is None or not hasattr(dtypes, "items"):
        return None
    return [(str(name), str(dtype)) for name, dtype in dtypes.items()]


def infer(model: Any, inputs: Iterable[Any]) -> dict[str, Any] | None:
    """The signature of ``model`` fitted from the step inputs ``inputs``, or ``None``.

    The columns are the model's ``feature_names_in_`` when it has them (scikit-learn records the
    columns it was fitted on, so a label column dropped inside the step is left out), with the
    dtype each has in a DataFrame input; otherwise those of the one DataFrame input.
    """
    frames = [found for found in map(_columns, inputs) if found is not None]
    if not frames:
        return None
    fitted = getattr(model, "feature_names_in_", None)
    if fitted is not None:
        known: dict[str, str] = {}
        for frame in frames:
            for name, dtype in frame:
                known.setdefault(name, dtype)
        return _signature([(str(name), known.get(str(name))) for name in fitted])
    if len(frames) == 1:
        return _signature(frames[0])
    return None


def declared(spec: Any) -> dict[str, Any]:
    """A signature from what a user declared: ``{column: dtype}`` or ``[column, ...]``, or a
    signature as stored."""
    if isinstance(spec, Mapping) and "columns" in spec and isinstance(spec["columns"], list):
        pairs = []
        for entry in spec["columns"]:
            if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
                raise InvalidInputError(f"The input signature {spec!r} cannot be read.", hint=_DECLARE_HINT)
            pairs.append((entry["name"], entry.get("dtype")))
    elif isinstance(spec, Mapping):
        pairs = [(key, value) for key, value in spec.items()]
    elif isinstance(spec, (list, tuple)):
        pairs = [(name, None) for name in spec]
    else:
        raise InvalidInputError(f"The input signature {spec!r} cannot be read.", hint=_DECLARE_HINT)
    for name, dtype in pairs:
        if not isinstance(name, str) or not name or not (dtype is None or isinstance(dtype, str)):
            raise InvalidInputError(
                f"The input signature names column {name!r} with dtype {dtype!r}.", hint=_DECLARE_HINT
            )
    if len({name for name, _ in pairs}) != len(pairs) or not 0 < len(pairs) <= _MAX_COLUMNS:
        raise InvalidInputError(
            "An input signature needs 1 to 10,000 distinct column names.", hint=_DECLARE_HINT
        )
    return _signature(pairs)


def _signature(pairs: Iterable[tuple[str, str | None]]) -> dict[str, Any]:
    return {"columns": [{"name": name, "dtype": dtype} for name, dtype in pairs]}


def names(signature: Mapping[str, Any]) -> list[str]:
    return [column["name"] for column in signature.get("columns", [])]


def breaks(candidate: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """How a model with signature ``candidate`` would fail requests written for ``current``:
    columns it needs that those clients do not send, and columns whose dtype it cannot take.
    Empty when every request that fits ``current`` fits ``candidate`` (extra columns are dropped)."""
    sent = {column["name"]: column.get("dtype") for column in current.get("columns", [])}
    problems = []
    missing = [name for name in names(candidate) if name not in sent]
    if missing:
        problems.append("it needs column(s) the current clients do not send: " + ", ".join(map(repr, missing)))
    for column in candidate.get("columns", []):
        name, wanted = column["name"], dtype_kind(column.get("dtype"))
        given = dtype_kind(sent.get(name)) if name in sent else None
        if wanted is None or given is None or wanted == given:
            continue
        if given not in _ACCEPTS.get(wanted, ()):
            problems.append(f"column {name!r} is {column.get('dtype')} here but {sent[name]} for the current clients")
    return problems
