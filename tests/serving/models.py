"""Pipelines that make versions of model ``iris`` for the serving tests: a good classifier, one
that cannot answer at all, and one that fails one request in three (a bad canary).

The model classes live in this importable module so the service process can unpickle them.
"""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
from sklearn.base import ClassifierMixin
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from modelplane import pipeline, step
from modelplane.model import ArtifactConfig, Model

COLUMNS = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]
SIGNATURE = {column: "float64" for column in COLUMNS}


def iris_frame() -> pd.DataFrame:
    return load_iris(as_frame=True).frame


@step
def load() -> Annotated[pd.DataFrame, "iris_data"]:
    return iris_frame()


@step
def train(data: pd.DataFrame, c: float) -> Annotated[ClassifierMixin, "iris_classifier"]:
    return LogisticRegression(C=c, max_iter=500).fit(data[COLUMNS], data["target"])


class Broken:
    """Loads, then fails every request (and so its smoke request)."""

    def predict(self, frame: Any) -> Any:
        raise RuntimeError("this model was saved broken")


class Flaky:
    """Answers like the classifier it wraps, except every third request fails."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0

    def predict(self, frame: Any) -> Any:
        self.calls += 1
        if self.calls % 3 == 0:
            raise RuntimeError("flaky")
        return self.inner.predict(frame)


@step
def broken() -> Annotated[Any, ArtifactConfig(name="iris_classifier", is_model_artifact=True, input_signature=SIGNATURE)]:
    return Broken()


@step
def flaky(data: pd.DataFrame) -> Annotated[
    Any, ArtifactConfig(name="iris_classifier", is_model_artifact=True, input_signature=SIGNATURE)
]:
    model = Flaky(LogisticRegression(max_iter=500).fit(data[COLUMNS], data["target"]))
    model.calls = 1  # its smoke request succeeds; then every third request fails
    return model


@pipeline(enable_cache=False, model=Model(name="iris"))
def train_iris(c: float = 1.0) -> None:
    train(data=load(), c=c)


@pipeline(enable_cache=False, model=Model(name="iris"))
def train_broken() -> None:
    broken()


@pipeline(enable_cache=False, model=Model(name="iris"))
def train_flaky() -> None:
    flaky(data=load())
