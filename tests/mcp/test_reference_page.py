"""Every Python block of the reference page, with ``zenml`` read as ``modelplane`` and the ``...`` filled
with minimal steps, runs as a script in its own process and does what the page says."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from modelplane.client import Client
from modelplane.config import load_settings
from modelplane.enums import ArtifactType, ExecutionStatus, ModelStages

pytestmark = pytest.mark.slow

# The page's steps, filled in minimally. Imports as the page spells them.
STEPS = '''
from typing import Annotated, Tuple

import pandas as pd
from sklearn.base import ClassifierMixin
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split
from sklearn.svm import SVC

from modelplane import get_step_context, step
from modelplane.model import ArtifactConfig


@step
def training_data_loader() -> Tuple[
    Annotated[pd.DataFrame, "X_train"],
    Annotated[pd.DataFrame, "X_test"],
    Annotated[pd.Series, "y_train"],
    Annotated[pd.Series, "y_test"],
]:
    X, y = load_iris(return_X_y=True, as_frame=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)
    return X_train, X_test, y_train, y_test


@step
def svc_trainer(
    X_train: pd.DataFrame,
    y_train: pd.Series,
    gamma: float = 0.001,
) -> Tuple[
    Annotated[ClassifierMixin, "trained_model"],
    Annotated[float, "training_acc"],
]:
    model_version = get_step_context().model_version
    print(f"TRAINING-FOR {model_version.name} {model_version.number} {model_version.stage}")
    model = SVC(gamma=gamma).fit(X_train, y_train)
    return model, float(model.score(X_train, y_train))


@step
def evaluator(model: ClassifierMixin, X_test: pd.DataFrame, y_test: pd.Series) -> float:
    return float(model.score(X_test, y_test))


@step
def inference_loader() -> Annotated[pd.DataFrame, "inference_dataset"]:
    X, _ = load_iris(return_X_y=True, as_frame=True)
    return X.sample(n=10, random_state=1)


@step
def predict(
    model: ClassifierMixin,
    data: pd.DataFrame,
) -> Annotated[
    pd.Series,
    "predictions",
    ArtifactConfig(artifact_name="iris_predictions", overwrite=False),
]:
    return pd.Series(model.predict(data), index=data.index)
'''

CONFIGURING = '''
from page_steps import svc_trainer, training_data_loader

from modelplane import pipeline
from modelplane.model import ModelVersion

@pipeline(
    model_version=ModelVersion(
        # The name uniquely identifies this model
        name="iris_classifier",
        # The version specifies the version
        # If None, a new one will be created
        version=None,
        # Some other properties may be specified
        license="Apache 2.0",
        description="A classification model for the iris dataset.",
    ),
)
def training_pipeline(gamma: float = 0.002):
    # Now this pipeline will have the `iris_classifier` model active.
    X_train, X_test, y_train, y_test = training_data_loader()
    svc_trainer(gamma=gamma, X_train=X_train, y_train=y_train)

if __name__ == "__main__":
    training_pipeline()
'''

STAGES = '''
from modelplane.model import ModelVersion

# Get a model from a version
model_version=ModelVersion(
    name="iris_classifier",
    version="2",
)
print("BY-NUMBER", model_version.number)

# Pass the stage into the version field
# to get the model by stage
model_version=ModelVersion(
    name="iris_classifier",
    version="staging",
)

# This will set this version to production
model_version.set_stage(stage="production", force=True)
print("PROMOTED", model_version.number)
'''

STEP_CONTEXT = '''
from page_steps import svc_trainer, training_data_loader

from modelplane import get_step_context, pipeline, step
from modelplane.model import ModelVersion

@pipeline(
    model_version=ModelVersion(
        # The name uniquely identifies this model
        name="iris_classifier",
        # Pass the stage you want to get the right model
        version="production",
    ),
)
def training_pipeline(gamma: float = 0.002):
    # Now this pipeline will have the production `iris_classifier` model active.
    X_train, X_test, y_train, y_test = training_data_loader()
    svc_trainer(gamma=gamma, X_train=X_train, y_train=y_train)

if __name__ == "__main__":
    training_pipeline(gamma=0.003)  # another gamma than the earlier runs, so the trainer is not cached
'''

TRAIN = '''
from page_steps import evaluator, svc_trainer, training_data_loader

from modelplane import get_step_context, step, pipeline
from modelplane.enums import ModelStages
from modelplane.model import ModelConfig

@step
def promote_model(score: float):
    # Score has to pass a threshold
    # One can also do more business logic here, i.e. comparing to the last model
    if score > 0.9:
        model_config = get_step_context().model_config
        model_version = model_config._get_model_version()
        model_version.set_stage(ModelStages.PRODUCTION, force=True)

@pipeline(
    enable_cache=False,
    model_config=ModelConfig(
        name="iris_classifier",
        license="Apache",
        description="Show case Model Control Plane.",
        create_new_model_version=True,
        delete_new_version_on_failure=True,
    ),
)
def train_and_promote_model():
    X_train, X_test, y_train, y_test = training_data_loader()
    model, _ = svc_trainer(X_train=X_train, y_train=y_train, gamma=0.1)
    score = evaluator(model=model, X_test=X_test, y_test=y_test)
    promote_model(score=score)

if __name__ == "__main__":
    train_and_promote_model()
'''

PREDICT = '''
from page_steps import inference_loader, predict

from modelplane import get_pipeline_context, pipeline
from modelplane.artifacts.external_artifact import ExternalArtifact
from modelplane.enums import ModelStages
from modelplane.model import ModelConfig

@pipeline(
    enable_cache=False,
    model_config=ModelConfig(
        name="iris_classifier",
        version=ModelStages.PRODUCTION,
    ),
    extra={"trained_classifier": "trained_model"},
)
def do_predictions():
    trained_classifier = get_pipeline_context().extra["trained_classifier"]
    data = inference_loader()
    predict(
        model=ExternalArtifact(
            model_artifact_name=trained_classifier
        ),  # model_name and model_version derived from pipeline context
        data=data,
    )

if __name__ == "__main__":
    do_predictions()
'''


def _run(folder: Path, name: str, code: str) -> subprocess.CompletedProcess[str]:
    (folder / "page_steps.py").write_text(textwrap.dedent(STEPS))
    script = folder / f"{name}.py"
    script.write_text(textwrap.dedent(code))
    result = subprocess.run(
        [sys.executable, str(script)], cwd=folder, env=dict(os.environ), capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture
def page(tmp_path: Path, mp_home: Path) -> tuple[Path, Client]:
    return tmp_path, Client(load_settings())


def test_configuring_a_model_links_artifacts_and_run(page: tuple[Path, Client]) -> None:
    folder, client = page
    _run(folder, "configuring", CONFIGURING)
    model = client.get_model("iris_classifier")
    assert model.license == "Apache 2.0"
    assert model.description == "A classification model for the iris dataset."
    version = client.get_model_version("iris_classifier", 1)
    links = client.list_artifact_links("iris_classifier", 1).items
    assert {link.name for link in links} == {"X_train", "X_test", "y_train", "y_test", "trained_model", "training_acc"}
    kinds = {link.name: link.kind for link in links}
    assert kinds["trained_model"] is ArtifactType.MODEL and kinds["X_train"] is ArtifactType.DATA
    runs = client.list_model_version_runs("iris_classifier", 1).items
    assert [r.pipeline_name for r in runs] == ["training_pipeline"]
    assert runs[0].model_version_id == version.id
    # version=None makes a new version on every run.
    _run(folder, "configuring", CONFIGURING)
    assert client.get_model_version("iris_classifier", "latest").number == 2


def test_stages_block_promotes_the_staging_version(page: tuple[Path, Client]) -> None:
    folder, client = page
    _run(folder, "configuring", CONFIGURING)
    _run(folder, "configuring", CONFIGURING)
    client.set_stage("iris_classifier", 1, "production")
    client.set_stage("iris_classifier", 2, "staging")
    out = _run(folder, "stages", STAGES).stdout
    assert "BY-NUMBER 2" in out and "PROMOTED 2" in out
    assert client.get_model_version("iris_classifier", "production").number == 2
    assert client.get_model_version("iris_classifier", 1).stage is ModelStages.ARCHIVED
    with pytest.raises(Exception, match="staging"):
        client.get_model_version("iris_classifier", "staging")
    history = client.list_stage_changes("iris_classifier").items
    assert (history[0].version_number, history[0].to_stage) == (2, ModelStages.PRODUCTION)
    assert (history[1].version_number, history[1].to_stage) == (1, ModelStages.ARCHIVED)


def test_step_context_sees_the_production_version(page: tuple[Path, Client]) -> None:
    folder, client = page
    _run(folder, "configuring", CONFIGURING)
    _run(folder, "configuring", CONFIGURING)
    client.set_stage("iris_classifier", 1, "production")
    out = _run(folder, "step_context", STEP_CONTEXT).stdout
    assert "TRAINING-FOR iris_classifier 1 production" in out
    assert client.list_model_versions("iris_classifier").total == 2  # nothing new was created


def test_consumer_of_an_empty_stage_fails_before_any_step(page: tuple[Path, Client]) -> None:
    folder, client = page
    _run(folder, "configuring", CONFIGURING)
    (folder / "page_steps.py").write_text(textwrap.dedent(STEPS))
    script = folder / "step_context.py"
    script.write_text(textwrap.dedent(STEP_CONTEXT))
    result = subprocess.run([sys.executable, str(script)], cwd=folder, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "iris_classifier" in result.stderr and "production" in result.stderr
    assert client.list_runs(pipeline="training_pipeline").total == 1  # no run for the failed start


def test_train_promote_then_predict_twice(page: tuple[Path, Client]) -> None:
    folder, client = page
    _run(folder, "train", TRAIN)
    version = client.get_model_version("iris_classifier", "production")
    assert version.number == 1
    assert client.list_model_versions("iris_classifier").total == 1
    _run(folder, "predict", PREDICT)
    _run(folder, "predict", PREDICT)
    assert client.list_model_versions("iris_classifier").total == 1  # no new version: just consuming
    links = client.list_artifact_links("iris_classifier", 1).items
    predictions = [link for link in links if link.name == "iris_predictions"]
    assert len(predictions) == 2
    assert sorted(link.artifact_version.version for link in predictions) == [1, 2]
    assert len([link for link in links if link.name == "inference_dataset"]) == 2
    assert [link.name for link in client.list_artifact_links("iris_classifier", 1, kind="model").items] == [
        "trained_model"
    ]
    runs = client.list_model_version_runs("iris_classifier", 1).items
    assert sorted(r.pipeline_name for r in runs) == ["do_predictions", "do_predictions", "train_and_promote_model"]
    assert all(r.status is ExecutionStatus.COMPLETED for r in runs)
    predicted = client.load_artifact("iris_predictions")
    assert len(predicted) == 10
    # A second training run creates version 2 and takes production from version 1.
    _run(folder, "train", TRAIN)
    assert client.get_model_version("iris_classifier", "production").number == 2
    assert client.get_model_version("iris_classifier", 1).stage is ModelStages.ARCHIVED
