"""MLflow's scoring protocol: a JSON request body as a DataFrame, predictions as JSON.

A request names its input with exactly one of ``dataframe_split`` (``{"columns": [...], "data":
[[...], ...]}``), ``dataframe_records`` (``[{column: value}, ...]``), ``instances`` or ``inputs``
(rows as lists or objects, or columns as an object of lists); ``params`` is accepted and ignored.
A model with an input signature gets exactly its columns, in its order and dtypes; a request that
does not fit gets a ``PayloadError`` naming the column or the shape.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd

from modelplane.errors import InvalidInputError
from modelplane.signatures import names

__all__ = [
    "FORMATS", "PayloadError", "conform", "encode_predictions", "numeric_rows", "parse", "read_input",
    "read_request",
]

FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
_HINT = (
    'Send JSON with one of: {"dataframe_split": {"columns": [...], "data": [[...]]}}, '
    '{"dataframe_records": [{...}]}, {"instances": [...]} or {"inputs": [...]}.'
)


class PayloadError(InvalidInputError):
    """A request the service cannot hand to the model (answered with 400)."""


def read_request(body: bytes, signature: dict[str, Any] | None) -> pd.DataFrame | np.ndarray:
    """The model input in ``body``: a DataFrame, or an array when neither the request nor the
    signature names columns."""
    return read_input(*parse(body), signature)


def parse(body: bytes) -> tuple[str, Any]:
    """The input format a request names (one of ``FORMATS``) and its value."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError(f"The request body is not JSON: {exc}.", hint=_HINT) from None
    if not isinstance(document, dict):
        raise PayloadError("The request body must be a JSON object.", hint=_HINT)
    given = [key for key in FORMATS if key in document]
    if len(given) != 1:
        raise PayloadError(
            "The request must hold exactly one of " + ", ".join(FORMATS)
            + (f"; it holds {', '.join(given)}." if given else f"; it holds {', '.join(map(repr, document)) or 'nothing'}."),
            hint=_HINT,
        )
    return given[0], document[given[0]]


def read_input(key: str, value: Any, signature: dict[str, Any] | None) -> pd.DataFrame | np.ndarray:
    """The model input of a parsed request (``parse``): a DataFrame, or an array when neither
    the request nor the signature names columns."""
    if key == "dataframe_split":
        return _split(value)
    if key == "dataframe_records":
        if not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
            raise PayloadError("dataframe_records must be a list of objects (one per row).", hint=_HINT)
        return pd.DataFrame.from_records(value)
    return _rows(key, value, signature)


def _split(value: Any) -> pd.DataFrame:
    if not isinstance(value, dict) or not isinstance(value.get("data"), list):
        raise PayloadError('dataframe_split must be an object with "columns" and "data".', hint=_HINT)
    columns, data = value.get("columns"), value["data"]
    if columns is not None and not isinstance(columns, list):
        raise PayloadError("dataframe_split.columns must be a list of column names.", hint=_HINT)
    if columns is not None:
        for number, row in enumerate(data):
            if not isinstance(row, list) or len(row) != len(columns):
                raise PayloadError(
                    f"Row {number} of dataframe_split.data has "
                    f"{len(row) if isinstance(row, list) else 'no list of'} values for "
                    f"{len(columns)} columns.",
                    hint="Give every row one value per column.",
                )
    return pd.DataFrame(data, columns=columns, index=value.get("index"))


def _rows(key: str, value: Any, signature: dict[str, Any] | None) -> pd.DataFrame | np.ndarray:
    if isinstance(value, dict):  # columnar: {"a": [1, 2], "b": [3, 4]}
        lengths = {len(v) if isinstance(v, list) else 1 for v in value.values()}
        if len(lengths) > 1:
            raise PayloadError(f"The columns of {key} have different lengths.", hint=_HINT)
        return pd.DataFrame({k: v if isinstance(v, list) else [v] for k, v in value.items()})
    if not isinstance(value, list) or not value:
        raise PayloadError(f"{key} must be a non-empty list of rows.", hint=_HINT)
    if all(isinstance(row, dict) for row in value):
        return pd.DataFrame.from_records(value)
    rows = value if isinstance(value[0], list) else [value]
    widths = {len(row) if isinstance(row, list) else -1 for row in rows}
    if -1 in widths or len(widths) != 1:
        raise PayloadError(f"The rows of {key} must be lists of the same length.", hint=_HINT)
    if signature is not None:
        columns = names(signature)
        if widths != {len(columns)}:
            raise PayloadError(
                f"The rows of {key} have {widths.pop()} values; the model takes {len(columns)} "
                f"({', '.join(columns)}).",
                hint="Send one value per column, in that order, or name the columns.",
            )
        return pd.DataFrame(rows, columns=columns)
    try:
        return np.asarray(rows)
    except ValueError as exc:
        raise PayloadError(f"The rows of {key} are not a table: {exc}.", hint=_HINT) from None


def numeric_rows(key: str, value: Any, columns: list[str]) -> np.ndarray | None:
    """A parsed request (``parse``) as a float64 array of ``columns`` in their order, or ``None``
    unless it is a table of numbers with all of them: a ``dataframe_split`` that names every
    column once (others are dropped), or ``instances``/``inputs`` rows of one value per column.

    The array holds what ``read_input`` then ``conform`` to a signature of float64 columns would,
    without building a DataFrame; ``None`` leaves anything unusual to them (and their errors)."""
    if key == "dataframe_split":
        if not isinstance(value, dict) or value.keys() != {"columns", "data"}:
            return None
        named, data = value["columns"], value["data"]
        try:
            if not isinstance(named, list) or len(set(named)) != len(named):
                return None
        except TypeError:  # a column name that is not a string or number
            return None
        try:
            order = [named.index(name) for name in columns]
        except ValueError:  # a column is missing
            return None
    elif key in ("instances", "inputs") and isinstance(value, list) and value:
        named, data, order = columns, value if isinstance(value[0], list) else [value], None
    else:
        return None
    if not isinstance(data, list) or not data:
        return None
    try:
        array = np.asarray(data)
    except ValueError:  # ragged rows
        return None
    if array.dtype.kind not in "fiub" or array.shape != (len(data), len(named)):
        return None
    if order is not None and order != list(range(len(named))):
        array = array[:, order]
    return array.astype(np.float64, copy=False)


def conform(frame: pd.DataFrame | np.ndarray, signature: dict[str, Any] | None, width: int | None) -> Any:
    """``frame`` as the model takes it: the signature's columns in order and dtype (extra columns
    dropped), or an array of the fitted width."""
    if signature is None:
        shape = getattr(frame, "shape", ())
        if width is not None and (len(shape) != 2 or shape[1] != width):
            raise PayloadError(
                f"The input has shape {tuple(shape)}; the model takes rows of {width} values.",
                hint=f"Send {width} values per row.",
            )
        return frame
    columns = names(signature)
    if not isinstance(frame, pd.DataFrame):
        frame = pd.DataFrame(frame)
    if not frame.columns.is_unique:
        twice = sorted({str(name) for name in frame.columns[frame.columns.duplicated()]})
        raise PayloadError(
            f"The request names column(s) {', '.join(map(repr, twice))} more than once.",
            hint="Send each column once.",
        )
    missing = [name for name in columns if name not in frame.columns]
    if missing:
        raise PayloadError(
            f"The request lacks column(s) {', '.join(map(repr, missing))}; the model takes "
            f"{', '.join(map(repr, columns))}.",
            hint="Send every column of the model's input signature.",
        )
    if list(frame.columns) != columns:
        return _cast_each(frame[columns], signature)
    # The usual request: the columns are already in order, so read the dtypes at once and cast
    # every column that needs it in one pass (one at a time only to name the one that fails).
    casts = {
        column["name"]: column["dtype"]
        for column, current in zip(signature["columns"], frame.dtypes)
        if column.get("dtype") is not None and str(current) != column["dtype"]
    }
    if not casts:
        return frame.copy(deep=False)
    try:
        return frame.astype(casts)
    except (ValueError, TypeError):
        return _cast_each(frame, signature)


def _cast_each(frame: pd.DataFrame, signature: dict[str, Any]) -> pd.DataFrame:
    for column in signature["columns"]:
        dtype = column.get("dtype")
        if dtype is None or str(frame[column["name"]].dtype) == dtype:
            continue
        try:
            frame = frame.astype({column["name"]: dtype})
        except (ValueError, TypeError) as exc:
            raise PayloadError(
                f"Column {column['name']!r} cannot be read as {dtype}: {exc}.",
                hint=f"Send {dtype} values in {column['name']!r}.",
            ) from None
    return frame


def encode_predictions(predictions: Any) -> bytes:
    """``{"predictions": [...]}`` for an array, a Series, a DataFrame (records) or a list."""
    if isinstance(predictions, pd.DataFrame):
        values: Any = predictions.to_dict(orient="records")
    elif isinstance(predictions, (pd.Series, np.ndarray)):
        values = predictions.tolist()
    else:
        values = list(predictions)
    try:
        return json.dumps({"predictions": values}, default=_plain, allow_nan=False).encode()
    except ValueError:  # NaN or infinity, which JSON cannot hold: null, as pandas writes it
        return json.dumps({"predictions": _finite(values)}, default=_plain).encode()


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list):
        return [_finite(item) for item in value]
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
        return None if isinstance(value, float) and not math.isfinite(value) else value
    raise TypeError(f"{type(value).__name__} is not JSON")
