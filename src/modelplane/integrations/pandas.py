"""pandas DataFrames and Series as Parquet files. → artifacts.materializers, pandas, pyarrow"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pyarrow  # noqa: F401 - fail at import, with an install hint, when Parquet support is missing

from modelplane.artifacts.materializers import ArtifactFolder, Materializer

__all__ = ["DataFrameMaterializer", "SeriesMaterializer"]

_FILE = "data.parquet"
_SERIES_FILE = "series.json"
_SERIES_COLUMN = "__modelplane_series__"
_MAX_LISTED_COLUMNS = 100


def _write_parquet(frame: pd.DataFrame, folder: ArtifactFolder) -> None:
    path = folder.local_path(_FILE)
    if path is not None:
        frame.to_parquet(path, engine="pyarrow")
        return
    with folder.open(_FILE, "wb") as fileobj:
        frame.to_parquet(fileobj, engine="pyarrow")


def _read_parquet(folder: ArtifactFolder) -> pd.DataFrame:
    path = folder.local_path(_FILE)
    if path is not None:
        return pd.read_parquet(path, engine="pyarrow")
    with folder.open(_FILE, "rb") as fileobj:
        return pd.read_parquet(fileobj, engine="pyarrow")


_HEAD_ROWS = 20
_CSV_ROWS = 200  # a table this small is also stored as CSV, to download or open anywhere


def _frame_pictures(frame: Any) -> dict[str, bytes]:
    """The first rows as an HTML table, and small frames whole as CSV."""
    shown = frame.head(_HEAD_ROWS)
    pictures = {"head.html": shown.to_html(border=0, max_cols=_MAX_LISTED_COLUMNS).encode("utf-8")}
    if len(frame) <= _CSV_ROWS:
        pictures["table.csv"] = frame.to_csv().encode("utf-8")
    return pictures


class DataFrameMaterializer(Materializer):
    """A DataFrame with unique string column names; anything else goes to the next materializer."""

    handled_types = (pd.DataFrame,)

    def can_save(self, value: Any) -> bool:
        columns = value.columns
        return (
            type(value) is pd.DataFrame
            and not isinstance(columns, pd.MultiIndex)
            and columns.is_unique
            and all(isinstance(name, str) for name in columns)
        )

    def save(self, value: Any, folder: ArtifactFolder) -> None:
        _write_parquet(value, folder)

    def load(self, data_type: type, folder: ArtifactFolder) -> Any:
        return _read_parquet(folder)

    def extract_metadata(self, value: Any) -> dict[str, Any]:
        shown = list(value.columns[:_MAX_LISTED_COLUMNS])
        return {
            "rows": len(value),
            "columns": len(value.columns),
            "dtypes": {str(name): str(value.dtypes[name]) for name in shown},
        }

    def visualize(self, value: Any) -> dict[str, bytes]:
        return _frame_pictures(value)


class SeriesMaterializer(Materializer):
    """A Series, stored as a one-column Parquet file; its name goes in ``series.json``."""

    handled_types = (pd.Series,)

    def can_save(self, value: Any) -> bool:
        name = value.name
        return type(value) is pd.Series and (name is None or type(name) in (str, int, float, bool))

    def save(self, value: Any, folder: ArtifactFolder) -> None:
        _write_parquet(value.to_frame(name=_SERIES_COLUMN), folder)
        with folder.open(_SERIES_FILE, "wb") as fileobj:
            fileobj.write(json.dumps({"name": value.name}).encode("utf-8"))

    def load(self, data_type: type, folder: ArtifactFolder) -> Any:
        with folder.open(_SERIES_FILE, "rb") as fileobj:
            name = json.loads(fileobj.read())["name"]
        return _read_parquet(folder)[_SERIES_COLUMN].rename(name)

    def extract_metadata(self, value: Any) -> dict[str, Any]:
        return {"rows": len(value), "dtype": str(value.dtype), "name": value.name}

    def visualize(self, value: Any) -> dict[str, bytes]:
        return _frame_pictures(value.to_frame())
