"""A run ready to execute: what the launcher resolved at start, handed to an orchestrator."""

from __future__ import annotations

import dataclasses
from typing import Any

from modelplane.dag.graph import Graph
from modelplane.metadata.records import ArtifactVersionRecord, ModelVersionRecord, RunRecord

__all__ = ["RunPlan", "StepFailure"]


@dataclasses.dataclass
class RunPlan:
    run: RunRecord
    graph: Graph
    enable_cache: bool
    # Per step invocation: the model request (a ``Model``) and the version it resolved to at start.
    models: dict[str, Any]
    model_versions: dict[str, ModelVersionRecord]
    # (invocation id, input name) → artifact version id, for ExternalArtifact inputs.
    externals: dict[tuple[str, str], str]
    # Artifact version records this process already holds (outputs of earlier steps), so a step
    # does not read back what the previous one just wrote. A cache only: misses go to the store.
    artifact_records: dict[str, ArtifactVersionRecord] = dataclasses.field(default_factory=dict)

    def model_for(self, node_id: str) -> tuple[Any, ModelVersionRecord | None]:
        return self.models.get(node_id), self.model_versions.get(node_id)


@dataclasses.dataclass
class StepFailure:
    node_id: str
    error: BaseException
    traceback: str
