"""``conform``: a request's frame as the model takes it, whatever order and dtypes it came in."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from modelplane.serving.payload import PayloadError, conform, read_input
from tests.serving.models import COLUMNS

SIGNATURE = {"columns": [{"name": column, "dtype": "float64"} for column in COLUMNS]}


@pytest.mark.parametrize(
    "split",
    [
        {"columns": COLUMNS, "data": [[5.1, 3.5, 1.4, 0.2]]},
        {"columns": COLUMNS, "data": [[5, 3, 1, 0], [6, 2, 4, 1]]},
        {"columns": COLUMNS, "data": [[5.1, 3, True, "0.2"]]},
        {"columns": ["extra", *reversed(COLUMNS)], "data": [["x", 0.2, 1, 3.5, 5]]},
    ],
)
def test_the_frame_has_the_signatures_columns_in_order_and_dtype(split: dict[str, Any]) -> None:
    frame = conform(read_input("dataframe_split", split, SIGNATURE), SIGNATURE, None)
    given = pd.DataFrame(split["data"], columns=split["columns"])
    expected = pd.DataFrame({column: given[column].astype("float64") for column in COLUMNS})
    pd.testing.assert_frame_equal(frame, expected)


def test_the_first_column_that_cannot_be_cast_is_named() -> None:
    frame = read_input("dataframe_split", {"columns": COLUMNS, "data": [[1, "tall", 2, "wide"]]}, SIGNATURE)
    with pytest.raises(PayloadError, match="'sepal width \\(cm\\)' cannot be read as float64"):
        conform(frame, SIGNATURE, None)
