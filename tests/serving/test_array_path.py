"""The array path of the scoring route: a plain scikit-learn estimator fitted on float64 columns
is given the float64 array its DataFrame would have become, and answers exactly the same; any
other model or request goes through the DataFrame."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from modelplane.client import Client
from modelplane.serving.loading import _array_model, load_version
from modelplane.serving.payload import conform, numeric_rows, read_input
from modelplane.signatures import infer
from tests.serving.models import COLUMNS, Flaky, iris_frame, train_iris

SIGNATURE = {"columns": [{"name": column, "dtype": "float64"} for column in COLUMNS]}
ROWS = [[5.1, 3.5, 1.4, 0.2], [6, 2.2, 4, 1], [True, 3, 5.9, 2.1]]

_TABLES: list[tuple[str, Any]] = [
    ("dataframe_split", {"columns": COLUMNS, "data": ROWS}),
    ("dataframe_split", {"columns": ["extra", *reversed(COLUMNS)], "data": [[9, *reversed(r)] for r in ROWS]}),
    ("instances", ROWS),
    ("inputs", ROWS[0]),
    ("inputs", [[1, 2, 3, 4]]),
]


@pytest.mark.parametrize(("key", "value"), _TABLES)
def test_a_table_of_numbers_reads_as_the_array_its_conformed_frame_holds(key: str, value: Any) -> None:
    rows = numeric_rows(key, value, COLUMNS)
    expected = conform(read_input(key, value, SIGNATURE), SIGNATURE, None).to_numpy()
    assert rows is not None and rows.dtype == np.float64
    np.testing.assert_array_equal(rows, expected)


_UNUSUAL: list[tuple[str, Any]] = [
    ("dataframe_split", {"columns": COLUMNS, "data": ROWS, "index": [0, 1, 2]}),
    ("dataframe_split", {"columns": COLUMNS[:3], "data": [r[:3] for r in ROWS]}),
    ("dataframe_split", {"columns": [*COLUMNS, COLUMNS[0]], "data": [[*r, 1] for r in ROWS]}),
    ("dataframe_split", {"columns": COLUMNS, "data": [[1, 2, 3]]}),
    ("dataframe_split", {"columns": COLUMNS, "data": [["5.1", 3.5, 1.4, 0.2]]}),
    ("dataframe_split", {"columns": COLUMNS, "data": [[None, 3.5, 1.4, 0.2]]}),
    ("dataframe_split", {"columns": COLUMNS, "data": []}),
    ("dataframe_split", {"columns": [["a"], "b", "c", "d"], "data": [[1, 2, 3, 4]]}),
    ("dataframe_records", [dict(zip(COLUMNS, ROWS[0]))]),
    ("instances", [dict(zip(COLUMNS, ROWS[0]))]),
    ("instances", [[1, 2, 3, 4], [1, 2, 3]]),
    ("inputs", {column: [1.0] for column in COLUMNS}),
    ("instances", [[2**70, 1, 2, 3]]),
]


@pytest.mark.parametrize(("key", "value"), _UNUSUAL)
def test_anything_else_is_left_to_the_dataframe_path(key: str, value: Any) -> None:
    assert numeric_rows(key, value, COLUMNS) is None


def _fitted(model: Any) -> Any:
    data = iris_frame()
    return model.fit(data[COLUMNS], data["target"])


def test_a_plain_estimator_answers_the_same_from_the_array() -> None:
    model = _fitted(LogisticRegression(max_iter=500))
    bare = _array_model(model, infer(model, [iris_frame()[COLUMNS]]))
    assert bare is not None and hasattr(model, "feature_names_in_")  # the served model is untouched
    frame = iris_frame()[COLUMNS]
    np.testing.assert_array_equal(bare.predict(frame.to_numpy()), model.predict(frame))


@pytest.mark.parametrize(
    "model",
    [
        _fitted(make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))),  # holds estimators
        Flaky(_fitted(LogisticRegression(max_iter=500))),  # not scikit-learn's own
        LogisticRegression(max_iter=500).fit(iris_frame()[COLUMNS].to_numpy(), iris_frame()["target"]),  # no names
    ],
)
def test_other_models_keep_the_dataframe(model: Any) -> None:
    assert _array_model(model, SIGNATURE) is None


def test_a_signature_that_is_not_all_float64_keeps_the_dataframe() -> None:
    model = _fitted(LogisticRegression(max_iter=500))
    signature = {"columns": [{"name": c, "dtype": "float64" if i else "int64"} for i, c in enumerate(COLUMNS)]}
    assert _array_model(model, signature) is None
    assert _array_model(model, {"columns": list(reversed(SIGNATURE["columns"]))}) is None


def test_a_trained_iris_version_loads_with_an_array_model(client: Client) -> None:
    train_iris(c=1.0)
    loaded = load_version(client, "iris", client.get_model_version("iris", 1))
    assert loaded.array_model is not None
    rows = loaded.rows("instances", ROWS)
    assert loaded.predict_rows(rows) == loaded.predict(read_input("instances", ROWS, loaded.signature))
