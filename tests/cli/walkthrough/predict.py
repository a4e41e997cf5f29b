"""The reference page's prediction pipeline: the production model object makes new predictions."""

from __future__ import annotations

from typing import Annotated

from modelplane import get_pipeline_context, pipeline, step
from modelplane.artifacts.external_artifact import ExternalArtifact
from modelplane.enums import ModelStages
from modelplane.model import ArtifactConfig, ModelConfig


@step
def inference_data_loader() -> Annotated[list, "inference_dataset"]:
    return [1.2, 4.8, 5.5, 1.1]


@step
def predict(
    model: dict, data: list
) -> Annotated[
    list, "predictions", ArtifactConfig(artifact_name="iris_predictions", overwrite=False)
]:
    return [int(length > model["threshold"]) for length in data]


@pipeline(
    enable_cache=False,
    model_config=ModelConfig(name="iris_classifier", version=ModelStages.PRODUCTION),
    extra={"trained_classifier": "iris_classifier"},
)
def do_predictions() -> None:
    trained_classifier = get_pipeline_context().extra["trained_classifier"]
    inference_data = inference_data_loader()
    predict(model=ExternalArtifact(model_artifact_name=trained_classifier), data=inference_data)


if __name__ == "__main__":
    do_predictions()
