"""What user code can ask about the step or pipeline it runs in. Set only by execution and pipelines."""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
from typing import Any, Iterator

from modelplane.client import Client
from modelplane.errors import InvalidInputError, ModelplaneError
from modelplane.metadata.records import RunRecord, StepRunRecord
from modelplane.model import Model

__all__ = [
    "PipelineContext",
    "StepContext",
    "get_pipeline_context",
    "get_step_context",
    "log_metadata",
    "pipeline_context",
    "step_context",
]


@dataclasses.dataclass(frozen=True)
class StepContext:
    pipeline_run: RunRecord
    step_run: StepRunRecord
    model: Model | None
    client: Client
    output_names: tuple[str, ...] = ()

    @property
    def step_name(self) -> str:
        return self.step_run.name

    @property
    def pipeline_name(self) -> str:
        return self.pipeline_run.pipeline_name

    def _require_model(self) -> Model:
        if self.model is None:
            raise ModelplaneError(
                f"Step '{self.step_run.name}' runs without a model.",
                hint="Pass model=Model(name=…) to @pipeline or @step.",
            )
        return self.model

    # The reference page's older spellings.
    @property
    def model_version(self) -> Model:
        return self._require_model()

    @property
    def model_config(self) -> Model:
        return self._require_model()


@dataclasses.dataclass(frozen=True)
class PipelineContext:
    name: str
    extra: dict[str, Any]
    model: Model | None
    enable_cache: bool = True

    @property
    def model_version(self) -> Model | None:
        return self.model

    @property
    def model_config(self) -> Model | None:
        return self.model


_STEP: contextvars.ContextVar[StepContext | None] = contextvars.ContextVar("modelplane_step", default=None)
_PIPELINE: contextvars.ContextVar[PipelineContext | None] = contextvars.ContextVar(
    "modelplane_pipeline", default=None
)


def get_step_context() -> StepContext:
    """The running step's context; only inside a step that a pipeline runs."""
    context = _STEP.get()
    if context is None:
        raise ModelplaneError(
            "get_step_context() was called outside a running step.",
            hint="Call it inside a @step function while a pipeline runs it.",
        )
    return context


def get_pipeline_context() -> PipelineContext:
    """The pipeline being defined; only inside a @pipeline function's body."""
    context = _PIPELINE.get()
    if context is None:
        raise ModelplaneError(
            "get_pipeline_context() was called outside a pipeline body.",
            hint="Call it inside a @pipeline function.",
        )
    return context


@contextlib.contextmanager
def step_context(context: StepContext) -> Iterator[StepContext]:
    token = _STEP.set(context)
    try:
        yield context
    finally:
        _STEP.reset(token)


@contextlib.contextmanager
def pipeline_context(context: PipelineContext) -> Iterator[PipelineContext]:
    token = _PIPELINE.set(context)
    try:
        yield context
    finally:
        _PIPELINE.reset(token)


def log_metadata(
    metadata: dict[str, Any],
    *,
    model: Model | None = None,
    model_name: str | None = None,
    model_version: Any = None,
    artifact_version_id: str | None = None,
    artifact_name: str | None = None,
    artifact_version: int | None = None,
    step_run_id: str | None = None,
    infer_model: bool = False,
) -> None:
    """Merge JSON ``metadata`` into a model version, an artifact version or a step run.

    Inside a step with no target named, it goes to the running step run; ``infer_model=True`` sends it to
    the step's model version instead. Outside a step, name the target.
    """
    import json

    try:
        json.dumps(metadata)
    except (TypeError, ValueError):
        raise InvalidInputError(
            "Metadata must be JSON: numbers, strings, booleans, lists and dicts.",
            hint="Convert other values (arrays, dates) to one of those first.",
        ) from None
    if not isinstance(metadata, dict):
        raise InvalidInputError("Metadata must be a dict of names to values.", hint="Pass {'accuracy': 0.97}.")
    running = _STEP.get()
    client = running.client if running else Client()
    if model is not None:
        model.log_metadata(metadata)
    elif model_name is not None:
        version = client.get_model_version(model_name, model_version if model_version is not None else "latest")
        client.add_metadata("model_version", version.id, metadata)
    elif artifact_version_id is not None or artifact_name is not None:
        record = client.get_artifact_version(artifact_version_id or artifact_name or "", artifact_version)
        client.add_metadata("artifact_version", record.id, metadata)
    elif step_run_id is not None:
        client.add_metadata("step_run", step_run_id, metadata)
    elif running is not None and infer_model:
        running._require_model().log_metadata(metadata)
    elif running is not None:
        client.add_metadata("step_run", running.step_run.id, metadata)
    else:
        raise InvalidInputError(
            "log_metadata() outside a step needs a target.",
            hint="Pass model=, model_name= (and model_version=), artifact_name= or step_run_id=.",
        )
