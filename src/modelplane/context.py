"""What user code can ask about the step or pipeline it runs in. Set only by execution and pipelines."""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
from typing import Any, Iterator, Mapping

from modelplane.client import Client
from modelplane.errors import InvalidInputError, ModelplaneError
from modelplane.metadata.records import RunRecord, StepRunRecord
from modelplane.metric_logging import MetricBuffer, check_metric_values
from modelplane.metadata.json_values import to_json_metadata
from modelplane.model import Model
from modelplane.model_handle import ModelVersionHandle, RunningStep, running_step

__all__ = [
    "PipelineContext",
    "StepContext",
    "get_pipeline_context",
    "get_step_context",
    "log_metadata",
    "log_metrics",
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
    # What the step logs with log_metrics, on its way to the store (sent when the step ends).
    metrics: MetricBuffer = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        buffer = MetricBuffer(
            self.client,
            model_version_id=self.model.bound_version_id if self.model is not None else None,
            run_id=self.pipeline_run.id,
            step_run_id=self.step_run.id,
        )
        object.__setattr__(self, "metrics", buffer)

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
    model = context.model
    running = RunningStep(
        context.step_run.id,
        context.step_run.name,
        model.bound_version_id if model is not None else None,
        flush_metrics=context.metrics.flush,
    )
    token = _STEP.set(context)
    try:
        with running_step(running):
            yield context
    except BaseException:
        with contextlib.suppress(Exception):  # the step's own error is the one to report
            context.metrics.flush()
        raise
    else:
        context.metrics.flush()  # a step that cannot record its points fails
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

    Nested dicts merge key by key (``{"eval": {"auc": …}}`` keeps an earlier ``eval.f1``). numpy
    numbers and arrays of up to ``MAX_ARRAY_ITEMS`` items are logged as numbers and lists; other
    values that are not JSON are refused, naming their key and type. What a step logs to its own
    model version is also recorded on its step run, so a cache hit of the step logs it again.
    """
    metadata = to_json_metadata(metadata)
    running = _STEP.get()
    client = running.client if running else Client()
    if model is not None:
        model.log_metadata(metadata)
    elif model_name is not None:
        version = client.get_model_version(model_name, model_version if model_version is not None else "latest")
        ModelVersionHandle(client, version).log_metadata(metadata)
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


def log_metrics(
    metrics: Mapping[str, Any],
    *,
    step: int | None = None,
    model: Model | None = None,
    model_name: str | None = None,
    model_version: Any = None,
    run_id: str | None = None,
) -> None:
    """Record points of metric series: ``log_metrics({"loss": 0.31, "acc": 0.9}, step=epoch)``.

    Inside a step with no target named, the points go to the step run, its run and the run's model
    version; they are buffered and written in batches, the last when the step ends. ``step``
    defaults to a counter per key (0, 1, 2… in the order logged). Outside a step, name the model
    version (``model=``, or ``model_name=`` and ``model_version=``, default the latest) or a run
    (``run_id=``, its id or name); the points are written at once and ``step`` continues the
    series. Values are numbers (numpy scalars included); NaN and infinities are refused, naming
    the key.
    """
    values = check_metric_values(metrics)
    running = _STEP.get()
    if running is not None and model is None and model_name is None and run_id is None:
        running.metrics.add(values, step)
        return
    client = running.client if running else Client()
    if model is not None or model_name is not None:
        name = model.name if model is not None else model_name
        spec = (model.version if model is not None else model_version) or "latest"
        version = client.get_model_version(name or "", spec)
        target = {"model_version_id": version.id}
        done = {s.key: s.last_step + 1 for s in client.list_metric_series(version.model_id, version.id)}
    elif run_id is not None:
        target = {"run_id": client.get_run(run_id).id}
        done = {}  # a run's own series are not summarised: give step= to continue one
    else:
        raise InvalidInputError(
            "log_metrics() outside a step needs a target.",
            hint="Pass model=, model_name= (and model_version=) or run_id=.",
        )
    buffer = MetricBuffer(client, next_steps=done, **target)
    buffer.add(values, step)
    buffer.flush()
