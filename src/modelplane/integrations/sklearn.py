"""scikit-learn estimators as model artifacts (pickled)."""

from __future__ import annotations

import pickle
from typing import Any

import cloudpickle
import sklearn
from sklearn.base import BaseEstimator

from modelplane.artifacts.materializers import ArtifactFolder, Materializer
from modelplane.enums import ArtifactType

__all__ = ["SklearnEstimatorMaterializer"]

_FILE = "model.pkl"


class SklearnEstimatorMaterializer(Materializer):
    """Any ``BaseEstimator``, pickled with cloudpickle (so estimators defined in ``__main__`` work).

    Loading unpickles, which runs code: the name is listed by ``is_pickle_materializer``.
    """

    handled_types = (BaseEstimator,)
    artifact_type = ArtifactType.MODEL

    def save(self, value: Any, folder: ArtifactFolder) -> None:
        with folder.open(_FILE, "wb") as fileobj:
            cloudpickle.dump(value, fileobj, protocol=pickle.HIGHEST_PROTOCOL)

    def load(self, data_type: type, folder: ArtifactFolder) -> Any:
        with folder.open(_FILE, "rb") as fileobj:
            return pickle.load(fileobj)  # recorded as pickle-based

    def extract_metadata(self, value: Any) -> dict[str, Any]:
        # Only this estimator's own parameters: nested estimators show as their repr.
        return {
            "sklearn_version": sklearn.__version__,
            "estimator": type(value).__name__,
            "params": value.get_params(deep=False),
        }
