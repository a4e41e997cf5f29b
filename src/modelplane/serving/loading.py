"""Loading a version's model artifact, and the smoke request that must pass before it serves."""

from __future__ import annotations

import copy
import dataclasses
import time
from datetime import datetime, timezone
from typing import Any

from modelplane.client import Client
from modelplane.enums import ArtifactType
from modelplane.errors import InvalidInputError, NotFoundError
from modelplane.metadata.records import ModelVersionRecord
from modelplane.serving.payload import conform, encode_predictions, numeric_rows
from modelplane.signatures import SIGNATURE_KEY, dtype_kind, names

__all__ = ["Loaded", "load_version"]

_SAMPLE_VALUES = {"integer": 0, "float": 0.0, "bool": False, "string": "", "datetime": "1970-01-01"}


@dataclasses.dataclass(frozen=True)
class Loaded:
    """A version ready to answer: its model object and what requests must look like."""

    number: int
    version_id: str
    artifact: str
    model: Any
    signature: dict[str, Any] | None
    width: int | None  # the number of features a model without a signature was fitted on
    loaded_at: datetime
    load_seconds: float
    # The model taking float64 arrays of the signature's columns instead of DataFrames, when that
    # answers the same (``_array_model``); ``None`` for every other model.
    array_model: Any = None

    def predict(self, frame: Any) -> bytes:
        """The JSON answer for ``frame`` (a DataFrame or an array); ``PayloadError`` when the
        input does not fit, anything the model raises otherwise."""
        return encode_predictions(self.model.predict(conform(frame, self.signature, self.width)))

    def rows(self, key: str, value: Any) -> Any:
        """A parsed request as the float64 array ``predict_rows`` takes, or ``None`` when this
        version has no array model or the request is not a plain table of its columns."""
        if self.array_model is None or self.signature is None:
            return None
        return numeric_rows(key, value, names(self.signature))

    def predict_rows(self, rows: Any) -> bytes:
        """The JSON answer for ``rows`` (from ``rows``), as ``predict`` gives for the same table."""
        return encode_predictions(self.array_model.predict(rows))

    def sample(self) -> Any:
        """One row the model must be able to answer, or ``None`` when nothing says what fits."""
        if self.signature is not None:
            import pandas as pd

            row = {
                column["name"]: _SAMPLE_VALUES.get(dtype_kind(column.get("dtype")) or "float", 0.0)
                for column in self.signature["columns"]
            }
            return pd.DataFrame([row])
        if self.width is not None:
            import numpy as np

            return np.zeros((1, self.width))
        return None


def _holds_estimator(value: Any) -> bool:
    if callable(getattr(value, "get_params", None)):
        return True
    if isinstance(value, (list, tuple)):
        return any(_holds_estimator(item) for item in value)
    if isinstance(value, dict):
        return any(_holds_estimator(item) for item in value.values())
    return False


def _array_model(model: Any, signature: dict[str, Any] | None) -> Any:
    """A shallow copy of ``model`` without its feature names, to be given float64 arrays, or
    ``None``. Only for a scikit-learn estimator of scikit-learn's own (not a subclass from
    elsewhere, holding no other estimator, so no step selects columns by name) fitted on a
    DataFrame of exactly the signature's columns, all float64: its ``predict`` checks the names
    (which the signature already matched) and turns the DataFrame into that very array, at
    about three times the cost of the prediction. The smoke request compares both answers."""
    if signature is None or any(c.get("dtype") != "float64" for c in signature["columns"]):
        return None
    fitted = vars(model).get("feature_names_in_") if hasattr(model, "__dict__") else None
    if fitted is None or list(fitted) != names(signature):
        return None
    if not type(model).__module__.startswith("sklearn.") or not callable(getattr(model, "get_params", None)):
        return None
    if any(_holds_estimator(value) for value in model.get_params(deep=False).values()):
        return None
    bare = copy.copy(model)
    del bare.feature_names_in_  # read only by the name check
    return bare


def _pick_link(client: Client, model: str, version: ModelVersionRecord, artifact: str | None) -> Any:
    links = client.list_artifact_links(model, version.id, kind=ArtifactType.MODEL, limit=100).items
    if artifact is not None:
        named = [link for link in links if link.name == artifact]
        if not named:
            raise NotFoundError(
                f"Version {version.number} of model {model!r} has no model artifact {artifact!r}"
                f" (it has {', '.join(repr(link.name) for link in links) or 'none'}).",
                hint="Pass --artifact with one of those names.",
            )
        return named[0]
    names = sorted({link.name for link in links})
    if not names:
        raise NotFoundError(
            f"Version {version.number} of model {model!r} has no model artifact to serve.",
            hint="Link one: a step output of a scikit-learn estimator, or "
            "ArtifactConfig(is_model_artifact=True).",
        )
    if len(names) > 1:
        raise InvalidInputError(
            f"Version {version.number} of model {model!r} has {len(names)} model artifacts: "
            f"{', '.join(map(repr, names))}.",
            hint="Choose one with --artifact NAME.",
        )
    return links[0]  # the newest link of that name


def load_version(
    client: Client,
    model: str,
    version: ModelVersionRecord,
    artifact: str | None = None,
    *,
    fallback_sample: Any = None,
) -> Loaded:
    """Load the model artifact of ``version`` and answer one smoke request with it; raises (any
    error) when it cannot load or answer, so a broken version is never swapped in.

    The smoke request is a row built from the input signature or the fitted width, else
    ``fallback_sample`` (a request the previous version answered)."""
    began = time.perf_counter()
    link = _pick_link(client, model, version, artifact)
    record = link.artifact_version
    value = client.load_artifact_version(record)
    if not callable(getattr(value, "predict", None)):
        raise InvalidInputError(
            f"The model artifact {link.name!r} of version {version.number} is a "
            f"{type(value).__name__}, which has no predict method.",
            hint="Serve an estimator or any object with predict(DataFrame).",
        )
    signature = record.metadata.get(SIGNATURE_KEY)
    width = getattr(value, "n_features_in_", None) if signature is None else None
    loaded = Loaded(
        number=version.number,
        version_id=version.id,
        artifact=link.name,
        model=value,
        signature=signature if isinstance(signature, dict) else None,
        width=int(width) if isinstance(width, int) else None,
        loaded_at=datetime.now(timezone.utc),
        load_seconds=0.0,
    )
    sample = loaded.sample()
    if sample is None:
        sample = fallback_sample
    if sample is not None:
        answer = loaded.predict(sample)  # the smoke request: raises when the model cannot answer
        loaded = _with_array_model(loaded, sample, answer)
    return dataclasses.replace(loaded, load_seconds=time.perf_counter() - began)


def _with_array_model(loaded: Loaded, sample: Any, answer: bytes) -> Loaded:
    """``loaded`` with an array model when it qualifies and answers the smoke request as the
    model did; anything odd leaves the DataFrame path (it never refuses the version)."""
    try:
        array_model = _array_model(loaded.model, loaded.signature)
        if array_model is None:
            return loaded
        quick = dataclasses.replace(loaded, array_model=array_model)
        rows = quick.rows("instances", sample.to_numpy(dtype="float64").tolist())
        return quick if rows is not None and quick.predict_rows(rows) == answer else loaded
    except Exception:  # noqa: BLE001 - the DataFrame path answered; keep to it
        return loaded
