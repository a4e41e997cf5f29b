"""``@pipeline``: traces its body into a DAG and runs it. The only module joining definition and execution."""

from __future__ import annotations

import functools
import inspect
import json
from typing import Any, Callable

from modelplane.client import Client
from modelplane.context import PipelineContext, pipeline_context
from modelplane.dag.graph import Graph
from modelplane.dag.signature import location_of
from modelplane.dag.tracing import tracing
from modelplane.errors import InvalidInputError, PipelineDefinitionError
from modelplane.execution.launcher import launch
from modelplane.metadata.records import RunRecord
from modelplane.model import Model
from modelplane.steps import check_options, choose_model
from modelplane.versioning import check_name

__all__ = ["Pipeline", "pipeline"]

_MODEL_ALIASES = ("model_version", "model_config")


class Pipeline:
    def __init__(
        self,
        func: Callable[..., Any],
        *,
        name: str | None = None,
        enable_cache: bool = True,
        extra: dict[str, Any] | None = None,
        model: Model | None = None,
        orchestrator: str | None = None,
    ) -> None:
        self.func = func
        self.name = check_name(name or func.__name__, "pipeline")
        self.enable_cache = enable_cache
        self.extra = dict(extra or {})
        self.model = model
        self.orchestrator = orchestrator
        functools.update_wrapper(self, func)

    def with_options(self, **changes: Any) -> "Pipeline":
        options = dict(
            name=self.name,
            enable_cache=self.enable_cache,
            extra=self.extra,
            model=self.model,
            orchestrator=self.orchestrator,
        )
        check_options(f"pipeline '{self.name}'.with_options()", changes, [*options, *_MODEL_ALIASES])
        if set(_MODEL_ALIASES) & set(changes):
            changes["model"] = choose_model(
                changes.pop("model", None), changes.pop("model_version", None), changes.pop("model_config", None)
            )
        options.update(changes)
        return Pipeline(self.func, **options)

    def _bind_parameters(self, args: tuple, kwargs: dict) -> dict[str, Any]:
        try:
            bound = inspect.signature(self.func).bind(*args, **kwargs)
        except TypeError as exc:
            raise PipelineDefinitionError(
                f"Pipeline '{self.name}' ({location_of(self.func)}) was called with the wrong arguments: {exc}."
            ) from None
        bound.apply_defaults()
        parameters = dict(bound.arguments)
        try:
            json.dumps(parameters)
        except (TypeError, ValueError):
            raise PipelineDefinitionError(
                f"Pipeline '{self.name}' parameters must be JSON-able values.",
                hint="Pass data to steps through ExternalArtifact(value=…) instead.",
            ) from None
        return parameters

    def trace(self, *args: Any, **kwargs: Any) -> tuple[Graph, dict[str, Any]]:
        """Run the body once with placeholders and return the validated DAG and the parameters."""
        parameters = self._bind_parameters(args, kwargs)
        context = PipelineContext(self.name, dict(self.extra), self.model, self.enable_cache)
        with pipeline_context(context), tracing() as (graph, _):
            self.func(**parameters)
        if not graph.nodes:
            raise PipelineDefinitionError(
                f"Pipeline '{self.name}' ({location_of(self.func)}) called no steps.",
                hint="Call at least one @step function in the pipeline body.",
            )
        return graph.freeze(), parameters

    def __call__(self, *args: Any, **kwargs: Any) -> RunRecord:
        graph, parameters = self.trace(*args, **kwargs)
        client = Client()
        return launch(
            client=client,
            pipeline_name=self.name,
            graph=graph,
            parameters=parameters,
            extra=self.extra,
            model=self.model,
            enable_cache=self.enable_cache,
            orchestrator=self.orchestrator or client.settings.orchestrator,
        )

    def __repr__(self) -> str:
        return f"<pipeline {self.name} at {location_of(self.func)}>"


def pipeline(
    func: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    enable_cache: bool = True,
    extra: dict[str, Any] | None = None,
    model: Model | None = None,
    orchestrator: str | None = None,
    **model_aliases: Model | None,
) -> Any:
    """Make a function a pipeline. ``model_version=``/``model_config=`` are older spellings of ``model=``."""
    supported = ["name", "enable_cache", "extra", "model", "orchestrator"]
    check_options("@pipeline", model_aliases, [*supported, *_MODEL_ALIASES])
    chosen = choose_model(model, model_aliases.get("model_version"), model_aliases.get("model_config"))
    if extra is not None and not isinstance(extra, dict):
        raise InvalidInputError("extra= must be a dict.", hint="Pass extra={'key': value}.")

    def decorate(f: Callable[..., Any]) -> Pipeline:
        return Pipeline(f, name=name, enable_cache=enable_cache, extra=extra, model=chosen, orchestrator=orchestrator)

    return decorate(func) if func is not None else decorate
