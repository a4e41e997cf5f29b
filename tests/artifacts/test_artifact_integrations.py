"""numpy, pandas and scikit-learn values through save_value / load_value."""

from __future__ import annotations

import logging
import subprocess
import sys
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.svm import SVC

from modelplane.artifacts.io import load_value, save_value
from modelplane.artifacts.materializers import (
    PICKLE_FALLBACK,
    is_pickle_materializer,
    materializer_for,
)
from modelplane.artifacts.store import new_artifact_id
from modelplane.enums import ArtifactType
from tests.artifacts.roundtrip import round_trip as _round_trip

NDARRAY = "modelplane.integrations.numpy:NdarrayMaterializer"



ARRAYS = {
    "0-d": np.array(3.5),
    "2-d float64": np.arange(12, dtype=np.float64).reshape(3, 4) / 7,
    "int32": np.array([1, -2, 3], dtype=np.int32),
    "bool": np.array([True, False]),
    "empty": np.zeros((0, 5)),
    "fortran order": np.asfortranarray(np.arange(6).reshape(2, 3)),
    "non-contiguous": np.arange(20).reshape(4, 5)[::2, 1:4],
    "big-endian": np.arange(4, dtype=">i4"),
    "unicode": np.array(["a", "ß", "日本"]),
    "structured": np.array([(1, 2.0), (3, 4.0)], dtype=[("i", "i4"), ("f", "f8")]),
    "datetime": np.array(["2024-01-01", "2025-06-30"], dtype="datetime64[D]"),
}


@pytest.mark.parametrize("array", list(ARRAYS.values()), ids=list(ARRAYS))
def test_arrays_round_trip_as_npy(store, array):
    saved, loaded = _round_trip(store, array)

    assert saved.materializer == NDARRAY
    assert saved.data_type == "numpy:ndarray"
    assert saved.metadata == {"shape": list(array.shape), "dtype": str(array.dtype)}
    assert type(loaded) is np.ndarray
    assert loaded.dtype == array.dtype
    assert loaded.shape == array.shape
    np.testing.assert_array_equal(loaded, array)


def test_the_npy_file_is_what_np_save_writes(local_store, tmp_path):
    array = np.asfortranarray(np.random.default_rng(1).random((30, 40)))
    saved = save_value(local_store, new_artifact_id(), array)
    np.save(tmp_path / "reference.npy", array)

    with open(f"{saved.uri}/array.npy", "rb") as fileobj:
        assert fileobj.read() == (tmp_path / "reference.npy").read_bytes()


@pytest.mark.parametrize(
    "scalar", [np.float64(1.25), np.int8(-3), np.bool_(True), np.float32(0.5)], ids=repr
)
def test_numpy_scalars_come_back_as_the_same_scalar_type(store, scalar):
    saved, loaded = _round_trip(store, scalar)

    assert saved.materializer == NDARRAY
    assert type(loaded) is type(scalar)
    assert loaded == scalar


def test_a_numpy_float64_is_not_taken_by_the_json_materializer_of_float():
    # np.float64 subclasses float; the numpy entry comes first along its MRO.
    assert materializer_for(np.float64).__name__ == "NdarrayMaterializer"


def test_object_arrays_are_not_written_as_npy(local_store, caplog):
    array = np.array([{"a": 1}, None], dtype=object)
    with caplog.at_level(logging.WARNING, logger="modelplane"):
        saved, loaded = _round_trip(local_store, array)

    assert saved.materializer == PICKLE_FALLBACK
    assert "NdarrayMaterializer refused" in caplog.text
    assert list(loaded) == [{"a": 1}, None]


def _mixed_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "int": [1, 2, 3],
            "float": [0.5, np.nan, 2.5],
            "text": ["a", "b", None],
            "flag": [True, False, True],
            "when": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]),
            "category": pd.Categorical(["x", "y", "x"]),
        },
        index=pd.Index([10, 20, 30], name="row"),
    )


def test_a_dataframe_with_mixed_dtypes_round_trips_as_parquet(store):
    frame = _mixed_frame()
    saved, loaded = _round_trip(store, frame)

    assert saved.materializer == "modelplane.integrations.pandas:DataFrameMaterializer"
    assert saved.data_type == "pandas:DataFrame"
    assert saved.metadata["rows"] == 3
    assert saved.metadata["columns"] == 6
    assert saved.metadata["dtypes"]["int"] == "int64"
    pd.testing.assert_frame_equal(loaded, frame)


@pytest.mark.parametrize("name", ["price", None, 7], ids=repr)
def test_a_series_round_trips_as_a_series_with_its_name(store, name):
    series = pd.Series([1.0, 2.5, np.nan], index=["a", "b", "c"], name=name)
    saved, loaded = _round_trip(store, series)

    assert saved.materializer == "modelplane.integrations.pandas:SeriesMaterializer"
    assert saved.metadata == {"rows": 3, "dtype": "float64", "name": name}
    pd.testing.assert_series_equal(loaded, series)


def test_a_frame_parquet_cannot_hold_goes_to_the_next_materializer(local_store):
    frame = pd.DataFrame({0: [1], 1: [2]})
    saved, loaded = _round_trip(local_store, frame)

    assert saved.materializer == PICKLE_FALLBACK
    pd.testing.assert_frame_equal(loaded, frame)


def test_a_fitted_svc_is_a_model_artifact_with_a_summary(store):
    features = np.array([[0.0, 0.0], [0.1, 0.2], [1.0, 1.0], [0.9, 1.1]])
    labels = np.array([0, 0, 1, 1])
    model = SVC(C=2.0, kernel="linear").fit(features, labels)
    saved, loaded = _round_trip(store, model)

    assert saved.type is ArtifactType.MODEL
    assert saved.materializer == "modelplane.integrations.sklearn:SklearnEstimatorMaterializer"
    assert is_pickle_materializer(saved.materializer)
    assert saved.metadata["estimator"] == "SVC"
    assert saved.metadata["sklearn_version"]
    assert saved.metadata["params"]["C"] == 2.0
    assert saved.metadata["params"]["kernel"] == "linear"
    np.testing.assert_array_equal(loaded.predict(features), model.predict(features))


def test_integrations_are_imported_only_when_a_value_needs_them():
    script = (
        "import sys, tempfile\n"
        "import numpy as np\n"
        "from modelplane.artifacts.store import FsspecArtifactStore, new_artifact_id\n"
        "from modelplane.artifacts.io import save_value\n"
        "store = FsspecArtifactStore(tempfile.mkdtemp())\n"
        "save_value(store, new_artifact_id(), [1])\n"
        "before = 'modelplane.integrations.numpy' in sys.modules\n"
        "save_value(store, new_artifact_id(), np.zeros(3))\n"
        "after = 'modelplane.integrations.numpy' in sys.modules\n"
        "print(before, after, 'pandas' in sys.modules, 'sklearn' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "True", "False", "False"]
