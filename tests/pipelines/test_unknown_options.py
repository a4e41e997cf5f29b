"""An option modelplane does not have is our error naming it and the supported options (and, for
``config_path``, that YAML run configuration is not supported yet), not a ``TypeError`` about an
``__init__``."""

from __future__ import annotations

import pytest

from modelplane import pipeline, step
from modelplane.errors import PipelineDefinitionError
from modelplane.model import Model


@step
def one() -> int:
    return 1


@pipeline
def train() -> None:
    one()


def test_pipeline_with_options_config_path_names_the_supported_options() -> None:
    with pytest.raises(PipelineDefinitionError) as caught:
        train.with_options(config_path="run.yaml")

    text = str(caught.value)
    assert "pipeline 'train'.with_options() has no option config_path=" in text
    assert "YAML run configuration" in text
    assert "enable_cache=" in text and "orchestrator=" in text
    assert "__init__" not in text


def test_step_with_options_and_decorators_name_an_unknown_option() -> None:
    with pytest.raises(PipelineDefinitionError, match=r"step 'one'.with_options\(\) has no option retries="):
        one.with_options(retries=3)
    with pytest.raises(PipelineDefinitionError, match="output_materializers="):
        step(colour="red")
    with pytest.raises(PipelineDefinitionError, match="@pipeline has no option config_path="):
        pipeline(config_path="run.yaml")


def test_supported_options_still_apply() -> None:
    assert train.with_options(enable_cache=False).enable_cache is False
    assert train.with_options(model_version=Model(name="m")).model.name == "m"
    assert one.with_options(model_config=Model(name="s")).model.name == "s"
    assert one.with_options(name="uno").name == "uno"
