"""``@step``: a plain function that, inside a pipeline body, becomes a node of the DAG.

Called outside a pipeline a step just runs its function, so steps can be unit-tested as functions.
"""

from __future__ import annotations

import functools
import inspect
import json
import sys
from typing import Any, Callable, Mapping, TypeVar, overload

from modelplane.artifacts.external_artifact import ExternalArtifact
from modelplane.config import StepSettings
from modelplane.dag.graph import External, Node, OutputRef, Parameter
from modelplane.dag.signature import StepSignature, parse_signature
from modelplane.dag.tracing import active_graph
from modelplane.errors import InvalidInputError, PipelineDefinitionError
from modelplane.execution.cache import code_hash
from modelplane.metadata.records import ArtifactVersionRecord
from modelplane.model import Model

__all__ = ["Step", "check_options", "choose_model", "step"]

F = TypeVar("F", bound=Callable[..., Any])


def _article(word: str) -> str:
    return "an" if word[:1].lower() in ("a", "e", "i", "o", "u") else "a"


def _call_site(depth: int = 2) -> str:
    frame = sys._getframe(depth)
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


_MODEL_ALIASES = ("model_version", "model_config")
# Options other tools take that modelplane does not (yet), with what to do instead.
_NOT_YET = {
    "config_path": "YAML run configuration (config_path=) is not supported yet: pass the options "
    "as keyword arguments instead.",
}


def check_options(where: str, given: Any, supported: Any) -> None:
    """Refuse options of ``where`` (``pipeline 'train'.with_options()``) outside ``supported``,
    naming them and the supported ones, rather than a ``TypeError`` about an ``__init__``."""
    unknown = sorted(set(given) - set(supported))
    if not unknown:
        return
    names = ", ".join(f"{name}=" for name in unknown)
    hints = [_NOT_YET[name] for name in unknown if name in _NOT_YET]
    hints.append(f"Supported options: {', '.join(f'{name}=' for name in sorted(supported))}.")
    raise PipelineDefinitionError(
        f"{where} has no option {names}.", hint=" ".join(hints)
    )


def choose_model(model: Model | None, model_version: Model | None, model_config: Model | None) -> Model | None:
    given = [m for m in (model, model_version, model_config) if m is not None]
    if len(given) > 1:
        raise InvalidInputError(
            "model=, model_version= and model_config= are three spellings of one setting; got more than one.",
            hint="Pass the model once, preferably as model=.",
        )
    if given and not isinstance(given[0], Model):
        raise InvalidInputError(
            f"model= takes a modelplane Model, not {type(given[0]).__name__}.",
            hint="Use model=Model(name='…').",
        )
    return given[0] if given else None


class Step:
    def __init__(
        self,
        func: Callable[..., Any],
        *,
        name: str | None = None,
        enable_cache: bool | None = None,
        output_materializers: Any = None,
        model: Model | None = None,
        settings: StepSettings | None = None,
        localns: dict[str, Any] | None = None,
    ) -> None:
        self.func = func
        self.name = name or func.__name__
        self.enable_cache = enable_cache
        self.signature: StepSignature = parse_signature(func, localns)
        self.output_materializers = self._materializers_by_output(output_materializers)
        self.model = model
        self.settings = settings or StepSettings()
        functools.update_wrapper(self, func)

    def _materializers_by_output(self, given: Any) -> dict[str, Any]:
        if given is None:
            return {}
        names = self.signature.output_names
        if isinstance(given, Mapping):
            unknown = sorted(set(given) - set(names))
            if unknown:
                raise PipelineDefinitionError(
                    f"output_materializers of step '{self.name}' names unknown output(s) {', '.join(unknown)}.",
                    hint=f"Its outputs are: {', '.join(names) or 'none'}.",
                )
            return dict(given)
        return {n: given for n in names}

    @functools.cached_property
    def source_hash(self) -> str:
        """Changes whenever the step's code changes: its source, and the functions, classes and
        constants of the user's own package that it uses (``execution.cache.code_hash`` says
        exactly what is covered)."""
        return code_hash(self.func)

    def with_options(self, **changes: Any) -> "Step":
        options = dict(
            name=self.name,
            enable_cache=self.enable_cache,
            output_materializers=self.output_materializers or None,
            model=self.model,
            settings=self.settings,
        )
        check_options(f"step '{self.name}'.with_options()", changes, [*options, *_MODEL_ALIASES])
        if set(_MODEL_ALIASES) & set(changes):
            changes["model"] = choose_model(
                changes.pop("model", None), changes.pop("model_version", None), changes.pop("model_config", None)
            )
        options.update(changes)
        return Step(self.func, **options)

    def __call__(self, *args: Any, id: str | None = None, after: Any = None, **kwargs: Any) -> Any:
        traced = active_graph()
        if traced is None:
            for value in (*args, *kwargs.values()):
                if isinstance(value, OutputRef):
                    raise PipelineDefinitionError(
                        f"Step '{self.name}' was called at {_call_site()} with the output '{value.output_name}' "
                        f"of step '{value.node_id}' outside a pipeline body.",
                        hint="Step outputs can only be passed to steps inside the @pipeline function.",
                    )
            return self.func(*args, **kwargs)
        return self._trace(traced, args, kwargs, id, after, _call_site())

    def _trace(self, traced: Any, args: tuple, kwargs: dict, id: str | None, after: Any, where: str) -> Any:
        graph, token = traced
        try:
            bound = inspect.signature(self.func).bind_partial(*args, **kwargs)
        except TypeError as exc:
            raise PipelineDefinitionError(f"Step '{self.name}' called at {where}: {exc}.") from None
        missing = [
            spec.name for spec in self.signature.inputs.values() if spec.required and spec.name not in bound.arguments
        ]
        if missing:
            raise PipelineDefinitionError(
                f"Step '{self.name}' called at {where} is missing the input(s) {', '.join(missing)}.",
                hint="Pass each input as the output of an earlier step, a JSON-able value or an ExternalArtifact.",
            )
        bindings = {name: self._binding(name, value, token, where) for name, value in bound.arguments.items()}
        node_id = id or graph.unique_id(self.name)
        graph.add(Node(node_id, self, bindings, after=self._after_ids(after, where), location=where))
        refs = tuple(OutputRef(node_id, out, token) for out in self.signature.output_names)
        if not refs:
            return None
        return refs[0] if len(refs) == 1 else refs

    def _binding(self, name: str, value: Any, token: int, where: str) -> Any:
        if isinstance(value, OutputRef):
            if value.graph_token != token:
                raise PipelineDefinitionError(
                    f"Input '{name}' of step '{self.name}' at {where} is an output of step '{value.node_id}' "
                    "from another pipeline run or definition.",
                    hint="Pass outputs only between steps of the same pipeline body.",
                )
            return value
        if isinstance(value, ExternalArtifact):
            return External(value)
        if isinstance(value, ArtifactVersionRecord):
            # A stored artifact version (e.g. model.get_model_artifact("clf")): that version.
            return External(ExternalArtifact(id=value.id))
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            kind = type(value).__name__
            raise PipelineDefinitionError(
                f"Input '{name}' of step '{self.name}' at {where} is {_article(kind)} {kind}, which is "
                "neither a step output, a stored artifact version nor a JSON-able parameter.",
                hint="Produce it in a step, or wrap it: ExternalArtifact(value=…).",
            ) from None
        return Parameter(value)

    @staticmethod
    def _after_ids(after: Any, where: str) -> tuple[str, ...]:
        if after is None:
            return ()
        items = after if isinstance(after, (list, tuple)) else [after]
        ids = []
        for item in items:
            if isinstance(item, OutputRef):
                ids.append(item.node_id)
            elif isinstance(item, str):
                ids.append(item)
            elif isinstance(item, Step):
                ids.append(item.name)
            else:
                raise PipelineDefinitionError(
                    f"after= at {where} got {item!r}.", hint="Pass step invocation ids, steps or step outputs."
                )
        return tuple(ids)

    def __repr__(self) -> str:
        return f"<step {self.name} at {self.signature.location}>"


@overload
def step(func: F) -> Step: ...


@overload
def step(
    func: None = None,
    *,
    name: str | None = None,
    enable_cache: bool | None = None,
    output_materializers: Any = None,
    model: Model | None = None,
    settings: StepSettings | None = None,
    **model_aliases: Model | None,
) -> Callable[[F], Step]: ...


def step(
    func: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    enable_cache: bool | None = None,
    output_materializers: Any = None,
    model: Model | None = None,
    settings: StepSettings | None = None,
    **model_aliases: Model | None,
) -> Any:
    """Make a function a step. ``model_version=``/``model_config=`` are accepted as older spellings of ``model=``."""
    supported = ["name", "enable_cache", "output_materializers", "model", "settings"]
    check_options("@step", model_aliases, [*supported, *_MODEL_ALIASES])
    chosen = choose_model(model, model_aliases.get("model_version"), model_aliases.get("model_config"))

    def decorate(f: Callable[..., Any], depth: int = 1) -> Step:
        return Step(
            f,
            name=name,
            enable_cache=enable_cache,
            output_materializers=output_materializers,
            model=chosen,
            settings=settings,
            localns=dict(sys._getframe(depth).f_locals),
        )

    return decorate(func, depth=2) if func is not None else decorate
