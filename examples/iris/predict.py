"""Batch predictions with whichever iris_classifier version is in production."""

from steps import inference_data_loader, predict

from modelplane import get_pipeline_context, pipeline
from modelplane.artifacts.external_artifact import ExternalArtifact
from modelplane.enums import ModelStages
from modelplane.model import ModelConfig


@pipeline(
    enable_cache=False,
    model_config=ModelConfig(name="iris_classifier", version=ModelStages.PRODUCTION),
    extra={"trained_classifier": "iris_classifier"},
)
def do_predictions():
    trained_classifier = get_pipeline_context().extra["trained_classifier"]
    data = inference_data_loader()
    predict(model=ExternalArtifact(model_artifact_name=trained_classifier), data=data)


if __name__ == "__main__":
    run = do_predictions()
    print(f"run {run.name}: {run.status}")
