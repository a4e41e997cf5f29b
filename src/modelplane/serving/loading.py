"""Loading a version's model artifact, and the smoke request that must pass before it serves."""

from __future__ import annotations

import dataclasses
import time
from datetime import datetime, timezone
from typing import Any

from modelplane.client import Client
from modelplane.enums import ArtifactType
from modelplane.errors import InvalidInputError, NotFoundError
from modelplane.metadata.records import ModelVersionRecord
from modelplane.serving.payload import conform, encode_predictions
from modelplane.signatures import SIGNATURE_KEY, dtype_kind

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

    def predict(self, frame: Any) -> bytes:
        """The JSON answer for ``frame`` (a DataFrame or an array); ``PayloadError`` when the
        input does not fit, anything the model raises otherwise."""
        return encode_predictions(self.model.predict(conform(frame, self.signature, self.width)))

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
        loaded.predict(sample)  # the smoke request: raises when the model cannot answer
    return dataclasses.replace(loaded, load_seconds=time.perf_counter() - began)
