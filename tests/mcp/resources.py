"""Small model-linked pipelines used by the MCP tests."""

from __future__ import annotations

from typing import Annotated, Tuple

from modelplane import Model, get_step_context, log_metadata, pipeline, step
from modelplane.artifacts.external_artifact import ExternalArtifact
from modelplane.model import ArtifactConfig

SEEN: dict[str, object] = {}


@step
def produce(n: int = 3) -> Tuple[
    Annotated[list, "dataset"],
    Annotated[dict, "weights", ArtifactConfig(is_model_artifact=True, overwrite=True)],
    Annotated[str, "endpoint", ArtifactConfig(name="service", artifact_type="deployment")],
]:
    context = get_step_context()
    SEEN["model"] = (context.model.name, context.model.number)
    log_metadata({"accuracy": 0.5 + n / 100, "n": n}, infer_model=True)
    return list(range(n)), {"w": n}, f"http://serve/{n}"


@step
def consume(weights: dict, extra: int = 0) -> Annotated[int, "score"]:
    return weights["w"] + extra


@step
def explode(score: int) -> None:
    raise ValueError("evaluation exploded")


def train_pipeline(model: Model, *, fail: bool = False, enable_cache: bool = False):
    @pipeline(name="train", model=model, enable_cache=enable_cache)
    def train(n: int = 3):
        _, weights, _ = produce(n=n)
        score = consume(weights)
        if fail:
            explode(score)

    return train


def consume_pipeline(model: Model, external: ExternalArtifact):
    @pipeline(name="consume", model=model, enable_cache=False)
    def consumer():
        consume(weights=external)

    return consumer
