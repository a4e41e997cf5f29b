"""Step caching: the cache key, the code it covers, and what a cache hit repeats.

A step is skipped when its code, parameters, inputs and output settings match a finished step run
whose outputs still exist. The code is ``code_hash(step.func)``:

- the step function's source (its bytecode and constants when there is no source);
- transitively, every function and class the code refers to by a global or closure name, or as an
  attribute of a module it refers to (``helpers.clean(x)``), when it is the user's own code: defined
  in the step's top-level package, or, for a step in a top-level module or script (``__main__``),
  in a module under that file's folder. Installed packages (``site-packages``) and modelplane are
  not the user's code: their version is not part of the key;
- the value of each number, string, bytes, boolean or ``None`` (or tuple of them) the code refers
  to by a global name, in those modules (``THRESHOLD = 0.9``).

Not covered: data files the step reads, environment variables, mutable module state (a global
dict or list), and code reached only through objects passed in at run time. Make such things a
parameter of the step (then they are in the key), or run the step with ``enable_cache=False``.

A cache hit leaves the run's model version as the original run left its own: the store merges in
the metadata the cached step run logged to its model version (``create_step_run(replay_to=…)``),
and ``repeat_cached_changes`` asks for the stage moves it made, through the model's gates.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import os
import sys
import types
from typing import TYPE_CHECKING, Any, Callable

from modelplane.errors import PromotionBlockedError
from modelplane.metadata.store import STEP_CHANGES_KEY
from modelplane.model_handle import warn_refused

if TYPE_CHECKING:
    from modelplane.client import Client
    from modelplane.metadata.records import ModelVersionRecord, StepRunRecord

__all__ = ["cache_key", "code_hash", "repeat_cached_changes"]

logger = logging.getLogger("modelplane")

# A bound on the objects one step's code hash visits, so a huge package cannot stall a run.
MAX_CODE_OBJECTS = 2_000
_CONSTANTS = (int, float, str, bytes, bool, type(None))
_INSTALLED = ("site-packages", "dist-packages")


def cache_key(
    *,
    source_hash: str,
    parameters: dict[str, Any],
    inputs: dict[str, str],
    outputs: dict[str, Any],
) -> str:
    """``outputs`` maps each output name to what decides how it is stored (artifact name, materializer)."""
    material = json.dumps(
        {"source": source_hash, "parameters": parameters, "inputs": inputs, "outputs": outputs},
        sort_keys=True,
        default=repr,
    )
    return hashlib.sha256(material.encode()).hexdigest()


# -- the code a step uses ------------------------------------------------------------------------


def code_hash(func: Callable[..., Any]) -> str:
    """A hash of ``func``'s code and of the user's code it uses (see the module docstring)."""
    walker = _CodeWalker(func)
    walker.visit(func)
    digest = hashlib.sha256()
    for part in walker.parts:
        digest.update(part)
        digest.update(b"\0")
    return digest.hexdigest()


def _module_file(module_name: str) -> str | None:
    module = sys.modules.get(module_name)
    path = getattr(module, "__file__", None)
    return os.path.realpath(path) if isinstance(path, str) else None


class _CodeWalker:
    def __init__(self, root: Callable[..., Any]) -> None:
        self.parts: list[bytes] = []
        self._seen: set[int] = set()
        module = getattr(root, "__module__", None) or "__main__"
        self._package = module.split(".")[0]
        self._folder: str | None = None
        if "." not in module:  # a script or top-level module: its folder is the project
            path = _module_file(module)
            self._folder = os.path.dirname(path) + os.sep if path else None

    def _is_users(self, module_name: str | None) -> bool:
        if not module_name or module_name.split(".")[0] in ("modelplane", "builtins"):
            return False
        if module_name.split(".")[0] == self._package:
            return True
        if self._folder is None:
            return False
        path = _module_file(module_name)
        return (
            path is not None
            and path.startswith(self._folder)
            and not any(part in path for part in _INSTALLED)
        )

    def visit(self, obj: Any) -> None:
        obj = _step_function(obj)
        obj = inspect.unwrap(obj) if callable(obj) else obj
        if id(obj) in self._seen or len(self._seen) >= MAX_CODE_OBJECTS:
            return
        self._seen.add(id(obj))
        if isinstance(obj, types.FunctionType):
            self._function(obj)
        elif isinstance(obj, type):
            self._class(obj)

    def _source(self, obj: Any) -> bytes | None:
        try:
            return inspect.getsource(obj).encode()
        except (OSError, TypeError):
            return None

    def _function(self, func: types.FunctionType) -> None:
        code = func.__code__
        source = self._source(func)
        self.parts.append(
            func.__qualname__.encode()
            + b"\n"
            + (source if source is not None else code.co_code + repr(code.co_consts).encode())
        )
        names = _names(code)
        cells = dict(zip(code.co_freevars, func.__closure__ or ()))
        for name in sorted(names):
            if name in cells:
                try:
                    value = cells[name].cell_contents
                except ValueError:  # an empty cell
                    continue
            elif name in func.__globals__:
                value = func.__globals__[name]
            else:
                continue
            self._referenced(name, value, names)

    def _class(self, cls: type) -> None:
        if not self._is_users(cls.__module__):
            return
        source = self._source(cls)
        self.parts.append(cls.__qualname__.encode() + b"\n" + (source or b""))
        for member in vars(cls).values():
            if isinstance(member, (staticmethod, classmethod)):
                member = member.__func__
            elif isinstance(member, property):
                member = member.fget
            if isinstance(member, types.FunctionType):
                self.visit(member)

    def _referenced(self, name: str, value: Any, names: set[str]) -> None:
        if isinstance(value, types.ModuleType):
            if self._is_users(value.__name__) and id(value) not in self._seen:
                self._seen.add(id(value))
                for attribute in sorted(names):
                    member = getattr(value, attribute, None)
                    if member is not None and not isinstance(member, types.ModuleType):
                        self._referenced(f"{name}.{attribute}", member, set())
            return
        if _is_constant(value):
            self.parts.append(f"{name}={value!r}".encode())
            return
        target = _step_function(value)
        if isinstance(target, (types.FunctionType, type)) and self._is_users(
            getattr(inspect.unwrap(target) if callable(target) else target, "__module__", None)
        ):
            self.visit(target)


def _step_function(obj: Any) -> Any:
    """A step's function (``steps.Step`` sits above this layer, so it is recognised by shape)."""
    func = getattr(obj, "func", None)
    return func if isinstance(func, types.FunctionType) and hasattr(obj, "signature") else obj


def _is_constant(value: Any) -> bool:
    if isinstance(value, tuple):
        return all(_is_constant(item) for item in value)
    return isinstance(value, _CONSTANTS)


def _names(code: types.CodeType) -> set[str]:
    """The global and attribute names ``code`` and the code nested in it refer to, and its free
    variables (closure names)."""
    names = set(code.co_names) | set(code.co_freevars)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _names(const)
    return names


# -- what a cache hit repeats --------------------------------------------------------------------


def repeat_cached_changes(
    client: Client,
    hit: StepRunRecord,
    step_run: StepRunRecord,
    model_version: ModelVersionRecord | None,
) -> None:
    """After the cache hit ``step_run`` (reusing ``hit``) was recorded: say so in the run's output,
    and ask again for the stage moves the cached step made (copied onto ``step_run`` by the
    store), for this run's model version and through its gates; a refusal is a warning, as in a
    step."""
    logger.info(
        "Step '%s' came from the cache: outputs of step run %s reused%s.",
        step_run.name,
        hit.id,
        f", its changes to the model version repeated on version {model_version.number}"
        if model_version is not None and STEP_CHANGES_KEY in step_run.metadata
        else "",
    )
    changes = step_run.metadata.get(STEP_CHANGES_KEY)
    if model_version is None or not isinstance(changes, dict):
        return
    for request in changes.get("stages") or ():
        try:
            client.set_stage(
                model_version.model_name,
                model_version.id,
                request["stage"],
                force=bool(request.get("force")),
                reason=request.get("reason") or f"cached step '{step_run.name}' repeats its move",
            )
        except PromotionBlockedError as error:
            warn_refused(
                error,
                f"Step '{step_run.name}' (from the cache)",
                model_version.model_name,
                model_version.number,
            )
