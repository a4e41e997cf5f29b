"""Steps shared by the iris training and prediction pipelines."""

from typing import Annotated, Tuple

import pandas as pd
from sklearn.base import ClassifierMixin
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split
from sklearn.svm import SVC

from modelplane import get_step_context, log_metadata, log_metrics, step
from modelplane.enums import ModelStages
from modelplane.model import ArtifactConfig


@step
def training_data_loader() -> Tuple[
    Annotated[pd.DataFrame, "iris_training_dataset"],
    Annotated[pd.DataFrame, "iris_testing_dataset"],
]:
    frame = load_iris(as_frame=True).frame
    train, test = train_test_split(frame, test_size=0.2, random_state=42, stratify=frame["target"])
    return train, test


@step
def svc_trainer(
    dataset: pd.DataFrame, gamma: float = 0.001
) -> Tuple[Annotated[ClassifierMixin, "iris_classifier"], Annotated[float, "training_acc"]]:
    X, y = dataset.drop(columns="target"), dataset["target"]
    # A learning curve, one point per training-set size: `modelplane model version metrics`
    # and the dashboard's version page show it.
    for size in range(30, len(X) + 1, 15):
        partial = SVC(gamma=gamma).fit(X.iloc[:size], y.iloc[:size])
        log_metrics({"learning_curve_accuracy": float(partial.score(X, y))}, step=size)
    model = SVC(gamma=gamma).fit(X, y)
    accuracy = float(model.score(X, y))
    print(f"training accuracy: {accuracy:.3f}")
    return model, accuracy


@step
def evaluator(model: ClassifierMixin, dataset: pd.DataFrame) -> Annotated[float, "test_acc"]:
    X, y = dataset.drop(columns="target"), dataset["target"]
    accuracy = float(model.score(X, y))
    log_metadata({"test_accuracy": accuracy}, infer_model=True)
    print(f"test accuracy: {accuracy:.3f}")
    return accuracy


@step
def promote_model(score: float) -> None:
    # Promote only when the new version passes the quality bar.
    if score > 0.9:
        model_config = get_step_context().model_config
        model_version = model_config._get_model_version()
        model_version.set_stage(ModelStages.PRODUCTION, force=True)
        print(f"promoted version {model_version.number} to production (accuracy {score:.3f})")
    else:
        print(f"not promoted: accuracy {score:.3f} is not above 0.9")


@step
def inference_data_loader() -> Annotated[pd.DataFrame, "iris_inference_dataset"]:
    frame = load_iris(as_frame=True).frame
    return frame.drop(columns="target").sample(n=20, random_state=7)


@step
def predict(
    model: ClassifierMixin, data: pd.DataFrame
) -> Annotated[pd.Series, "predictions", ArtifactConfig(artifact_name="iris_predictions", overwrite=False)]:
    return pd.Series(model.predict(data), index=data.index, name="predicted_class")
