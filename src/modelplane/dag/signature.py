"""A step function's inputs and outputs, read from its signature and type hints."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import textwrap
import typing
from typing import Any, Callable

from modelplane.errors import PipelineDefinitionError

__all__ = ["InputSpec", "OutputSpec", "StepSignature", "location_of", "parse_signature"]

_NO_DEFAULT = inspect.Parameter.empty
DEFAULT_OUTPUT_NAME = "output"


@dataclasses.dataclass(frozen=True)
class InputSpec:
    name: str
    annotation: Any
    default: Any = _NO_DEFAULT

    @property
    def required(self) -> bool:
        return self.default is _NO_DEFAULT


@dataclasses.dataclass(frozen=True)
class OutputSpec:
    name: str
    annotation: Any
    # Everything else inside ``Annotated[...]`` (an ``ArtifactConfig``, a materializer…), in order.
    extras: tuple[Any, ...] = ()


@dataclasses.dataclass(frozen=True)
class StepSignature:
    inputs: dict[str, InputSpec]
    outputs: tuple[OutputSpec, ...]
    location: str  # "file.py:line" of the step definition

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.outputs)


def location_of(func: Callable[..., Any]) -> str:
    code = getattr(func, "__code__", None)
    if code is None:
        return repr(func)
    return f"{code.co_filename}:{code.co_firstlineno}"


def _resolved_hints(func: Callable[..., Any], localns: dict[str, Any] | None) -> dict[str, Any]:
    try:
        return typing.get_type_hints(func, localns=localns, include_extras=True)
    except Exception:  # an unresolvable forward reference: fall back to the raw annotations
        return dict(getattr(func, "__annotations__", {}))


def _split_annotated(annotation: Any) -> tuple[Any, str | None, tuple[Any, ...]]:
    """(type, name, other extras) from ``Annotated[T, "name", extra…]``; name may come from an extra."""
    if typing.get_origin(annotation) is not typing.Annotated:
        return annotation, None, ()
    base, *meta = typing.get_args(annotation)
    name = None
    extras = []
    for item in meta:
        if isinstance(item, str) and name is None:
            name = item
        else:
            extras.append(item)
    if name is None:
        for item in extras:
            candidate = getattr(item, "name", None) or getattr(item, "artifact_name", None)
            if isinstance(candidate, str):
                name = candidate
                break
    return base, name, tuple(extras)


def _is_tuple(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (tuple, typing.Tuple) and bool(typing.get_args(annotation))


def _returns_a_value(func: Callable[..., Any]) -> bool:
    """Whether the function's own body can return something other than ``None`` (a ``return``
    with a value, or a ``yield``); ``True`` when its source cannot be read."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    except (OSError, TypeError, SyntaxError):
        return True
    body = tree.body[0] if tree.body and isinstance(tree.body[0], _FUNCTIONS) else None
    if body is None:  # a lambda or something unusual: keep the output
        return True
    pending: list[ast.AST] = list(body.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (*_FUNCTIONS, ast.Lambda, ast.ClassDef)):
            continue  # a nested definition's returns are its own
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return True
        if isinstance(node, ast.Return) and node.value is not None:
            if not (isinstance(node.value, ast.Constant) and node.value.value is None):
                return True
        pending.extend(ast.iter_child_nodes(node))
    return False


_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _outputs(annotation: Any, where: str, func: Callable[..., Any] | None = None) -> tuple[OutputSpec, ...]:
    if annotation is None or annotation is type(None):
        return ()
    if annotation is _NO_DEFAULT:
        # No return annotation: one output, unless the body never returns a value (the reference
        # page's `def promote_model(score: float):`), which stores nothing.
        if func is not None and not _returns_a_value(func):
            return ()
        return (OutputSpec(DEFAULT_OUTPUT_NAME, Any),)
    if _is_tuple(annotation):
        args = typing.get_args(annotation)
        if len(args) == 2 and args[1] is Ellipsis:
            return (OutputSpec(DEFAULT_OUTPUT_NAME, annotation),)
        specs = []
        for index, item in enumerate(args):
            base, name, extras = _split_annotated(item)
            specs.append(OutputSpec(name or f"output_{index}", base, extras))
        names = [s.name for s in specs]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise PipelineDefinitionError(
                f"The step at {where} declares the output name(s) {', '.join(duplicates)} more than once.",
                hint="Give every output in the Tuple[...] return annotation its own name.",
            )
        return tuple(specs)
    base, name, extras = _split_annotated(annotation)
    return (OutputSpec(name or DEFAULT_OUTPUT_NAME, base, extras),)


def parse_signature(func: Callable[..., Any], localns: dict[str, Any] | None = None) -> StepSignature:
    """``localns``: the names where the function was defined, for string annotations of local types."""
    where = location_of(func)
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError) as exc:
        raise PipelineDefinitionError(f"Cannot read the signature of {func!r}: {exc}.") from None
    hints = _resolved_hints(func, localns)
    inputs: dict[str, InputSpec] = {}
    for param in params.values():
        if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            raise PipelineDefinitionError(
                f"The step '{func.__name__}' at {where} takes *{param.name}; steps need named inputs.",
                hint="Replace *args/**kwargs with named parameters.",
            )
        inputs[param.name] = InputSpec(param.name, hints.get(param.name, Any), param.default)
    returns = hints.get("return", inspect.signature(func).return_annotation)
    return StepSignature(inputs=inputs, outputs=_outputs(returns, where, func), location=where)
