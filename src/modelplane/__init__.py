"""modelplane: ML pipelines with a Model Control Plane.

The objects, from definition to storage:

    @step, @pipeline        plain functions; a pipeline body traces step calls into a DAG
      └─ run                one execution of a pipeline: step runs, each with logs and outputs
           └─ artifact version   every step output, stored by a materializer, numbered per name
    Model (ModelVersion, ModelConfig)
      └─ model version      numbered 1, 2, 3…; a stage (staging, production, archived);
                            linked to the runs and artifact versions that made it
    Client                  lists, loads, changes and deletes all of the above
"""

from modelplane._version import __version__
from modelplane.artifacts.external_artifact import ExternalArtifact
from modelplane.client import Client
from modelplane.context import get_pipeline_context, get_step_context, log_metadata
from modelplane.enums import ModelStages
from modelplane.model import ArtifactConfig, Model, ModelConfig, ModelVersion
from modelplane.pipelines import pipeline
from modelplane.steps import step

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
    "pipeline",
    "step",
]
