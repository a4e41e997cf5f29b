"""modelplane: ML pipelines with a Model Control Plane.

The objects, from definition to storage:

    @step, @pipeline        plain functions; a pipeline body traces step calls into a DAG
      └─ run                one execution of a pipeline: step runs, each with logs and outputs
           └─ artifact version   every step output, stored by a materializer, numbered per name
    Model (ModelVersion, ModelConfig)
      └─ model version      numbered 1, 2, 3…; a stage (staging, production, archived);
                            linked to the runs and artifact versions that made it
    Client                  lists, loads, changes and deletes all of the above

The names below are imported on first use, so ``import modelplane`` (and every CLI command) stays
fast; ``from modelplane import step`` works as usual.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from modelplane._version import __version__

if TYPE_CHECKING:
    from modelplane.artifacts.external_artifact import ExternalArtifact
    from modelplane.client import Client
    from modelplane.context import get_pipeline_context, get_step_context, log_metadata, log_metrics
    from modelplane.enums import ModelStages
    from modelplane.model import ArtifactConfig, Model, ModelConfig, ModelVersion
    from modelplane.pipelines import pipeline
    from modelplane.steps import step

# Public name → the module that defines it.
_PUBLIC_API = {
    "ArtifactConfig": "modelplane.model",
    "Client": "modelplane.client",
    "ExternalArtifact": "modelplane.artifacts.external_artifact",
    "Model": "modelplane.model",
    "ModelConfig": "modelplane.model",
    "ModelStages": "modelplane.enums",
    "ModelVersion": "modelplane.model",
    "get_pipeline_context": "modelplane.context",
    "get_step_context": "modelplane.context",
    "log_metadata": "modelplane.context",
    "log_metrics": "modelplane.context",
    "pipeline": "modelplane.pipelines",
    "step": "modelplane.steps",
}

__all__ = [
    "ArtifactConfig",
    "Client",
    "ExternalArtifact",
    "Model",
    "ModelConfig",
    "ModelStages",
    "ModelVersion",
    "__version__",
    "get_pipeline_context",
    "get_step_context",
    "log_metadata",
    "log_metrics",
    "pipeline",
    "step",
]


def __getattr__(name: str) -> Any:
    module = _PUBLIC_API.get(name)
    if module is None:
        raise AttributeError(f"module 'modelplane' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
