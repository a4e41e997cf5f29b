"""The reference page's training pipeline, small: two datasets, a model object, promotion."""

from __future__ import annotations

from typing import Annotated, Tuple

from modelplane import get_step_context, pipeline, step
from modelplane.enums import ModelStages
from modelplane.model import ArtifactConfig, ModelConfig

# (petal length, species) pairs: species 1 when the petal is longer than 2.5.
DATA = [(1.4, 0), (1.3, 0), (4.7, 1), (4.5, 1), (1.5, 0), (5.1, 1), (1.4, 0), (4.9, 1)]


@step
def training_data_loader() -> Tuple[  # noqa: UP006 - spelled as on the reference page
    Annotated[list, "train_dataset"], Annotated[list, "test_dataset"]
]:
    return [list(row) for row in DATA[:6]], [list(row) for row in DATA[6:]]


@step
def trainer(
    train_dataset: list,
) -> Annotated[
    dict, "iris_classifier", ArtifactConfig(artifact_name="iris_classifier", is_model_artifact=True)
]:
    small = max(length for length, species in train_dataset if species == 0)
    large = min(length for length, species in train_dataset if species == 1)
    print(f"threshold between {small} and {large}")
    return {"threshold": (small + large) / 2}


@step
def promote_model(iris_classifier: dict, test_dataset: list) -> None:
    hits = sum(
        (length > iris_classifier["threshold"]) == bool(species) for length, species in test_dataset
    )
    score = hits / len(test_dataset)
    if score > 0.9:
        model_config = get_step_context().model_config
        model_config._get_model_version().set_stage(ModelStages.PRODUCTION, force=True)


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
def train_and_promote_model() -> None:
    train_dataset, test_dataset = training_data_loader()
    iris_classifier = trainer(train_dataset)
    promote_model(iris_classifier, test_dataset)


if __name__ == "__main__":
    train_and_promote_model()
