"""A model fitted from a DataFrame in a step gets its input signature recorded, on every orchestrator."""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
import pytest
from sklearn.base import ClassifierMixin
from sklearn.linear_model import LogisticRegression

from modelplane import pipeline, step
from modelplane.client import Client
from modelplane.errors import InvalidInputError
from modelplane.model import ArtifactConfig, Model


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {"age": [30, 40, 50, 60] * 5, "income": [1.5, 2.5, 0.5, 3.0] * 5, "label": [0, 1, 0, 1] * 5}
    )


@step(enable_cache=False)
def fit(frame: pd.DataFrame) -> Annotated[ClassifierMixin, "classifier"]:
    # The label column is in the step's input but not in what the model was fitted on.
    return LogisticRegression().fit(frame[["income", "age"]], frame["label"])


@step(enable_cache=False)
def fit_declared(frame: pd.DataFrame) -> Annotated[
    Any, ArtifactConfig(name="classifier", is_model_artifact=True, input_signature=["age", "income"])
]:
    return LogisticRegression().fit(frame[["age", "income"]].values, frame["label"])


@step(enable_cache=False)
def table() -> pd.DataFrame:
    return _frame()


@pipeline(enable_cache=False, model=Model(name="scorer"))
def inferred() -> None:
    fit(frame=table())


@pipeline(enable_cache=False, model=Model(name="scorer"))
def declared() -> None:
    fit_declared(frame=table())


def _signature(client: Client, version: int) -> Any:
    (link,) = client.list_artifact_links("scorer", version, kind="model").items
    return link.artifact_version.metadata.get("input_signature")


def test_the_signature_is_the_fitted_columns_with_their_dtypes(client: Client, orchestrator: str) -> None:
    inferred.with_options(orchestrator=orchestrator)()
    assert _signature(client, 1) == {
        "columns": [{"name": "income", "dtype": "float64"}, {"name": "age", "dtype": "int64"}]
    }
    declared.with_options(orchestrator=orchestrator)()
    assert _signature(client, 2) == {"columns": [{"name": "age", "dtype": None}, {"name": "income", "dtype": None}]}
    data = client.list_artifact_links("scorer", 1, kind="data").items
    assert all("input_signature" not in link.artifact_version.metadata for link in data)


@pytest.mark.parametrize("spec", [42, [], ["a", "a"], {"a": 3}, [""]])
def test_a_bad_declared_signature_is_refused_where_it_is_written(spec: Any) -> None:
    with pytest.raises(InvalidInputError, match="signature"):
        ArtifactConfig(name="m", is_model_artifact=True, input_signature=spec)
