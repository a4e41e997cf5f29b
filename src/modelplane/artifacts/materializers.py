"""Materializers turn values into files and back; a registry picks one per type along the MRO.

Built-ins and integrations are string tables (``"numpy.ndarray"`` → ``"module:Class"``), imported
with importlib only when a value of that type shows up, so ``import modelplane`` stays light.
``save_value`` / ``load_value`` are the two calls the rest of modelplane uses. Neither touches the
metadata store: the caller commits metadata only after ``save_value`` returns, when the bytes are
already in their final place.
"""

from __future__ import annotations

import errno
import importlib
import logging
import math
import sys
from dataclasses import dataclass, field
from typing import Any, ClassVar

from modelplane.artifacts.folder import ArtifactFolder
from modelplane.artifacts.store import ArtifactStore
from modelplane.artifacts.visualizations import write_visualizations

# Write errors that say the store has no room, not that the materializer is wrong.
_STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS})
from modelplane.enums import ArtifactType
from modelplane.errors import ArtifactError, MaterializerError, ModelplaneError

__all__ = [
    "BUILTINS",
    "INTEGRATIONS",
    "PICKLE_FALLBACK",
    "ArtifactFolder",
    "Materializer",
    "SavedArtifact",
    "import_materializer",
    "import_type",
    "is_pickle_materializer",
    "load_value",
    "materializer_candidates",
    "materializer_for",
    "materializer_name",
    "register_materializer",
    "save_value",
    "type_path",
]

logger = logging.getLogger("modelplane")

_BUILTIN_MODULE = "modelplane.artifacts.builtin_materializers"
_JSON = f"{_BUILTIN_MODULE}:JsonMaterializer"

# Materializers for Python's own types.
BUILTINS: dict[str, str] = {
    **{
        f"builtins.{name}": _JSON
        for name in ("str", "int", "float", "bool", "NoneType", "list", "tuple", "dict")
    },
    "builtins.bytes": f"{_BUILTIN_MODULE}:BytesMaterializer",
    "builtins.bytearray": f"{_BUILTIN_MODULE}:BytesMaterializer",
    "modelplane.types.MarkdownString": f"{_BUILTIN_MODULE}:TextMaterializer",
    "modelplane.types.HTMLString": f"{_BUILTIN_MODULE}:TextMaterializer",
}

# In-tree integrations: "<package>.<attribute path of the type>" → "module:Class".
INTEGRATIONS: dict[str, str] = {
    "numpy.ndarray": "modelplane.integrations.numpy:NdarrayMaterializer",
    "numpy.generic": "modelplane.integrations.numpy:NdarrayMaterializer",
    "pandas.DataFrame": "modelplane.integrations.pandas:DataFrameMaterializer",
    "pandas.Series": "modelplane.integrations.pandas:SeriesMaterializer",
    "sklearn.base.BaseEstimator": "modelplane.integrations.sklearn:SklearnEstimatorMaterializer",
    "matplotlib.figure.Figure": "modelplane.integrations.matplotlib:FigureMaterializer",
    "PIL.Image.Image": "modelplane.integrations.pillow:ImageMaterializer",
}

# Used when nothing else handles a value. Loading it runs code: the dashboard never does.
PICKLE_FALLBACK = f"{_BUILTIN_MODULE}:CloudpickleMaterializer"
_PICKLE_BASED = frozenset(
    {
        PICKLE_FALLBACK,
        INTEGRATIONS["sklearn.base.BaseEstimator"],
        INTEGRATIONS["matplotlib.figure.Figure"],
    },
)

_INSTALL_HINT = {
    "numpy": "pip install 'modelplane[numpy]'",
    "pandas": "pip install 'modelplane[pandas]'",
    "pyarrow": "pip install 'modelplane[pandas]'",
    "sklearn": "pip install 'modelplane[sklearn]'",
    "matplotlib": "pip install matplotlib",
    "PIL": "pip install pillow",
}


class Materializer:
    """Saves values of ``handled_types`` into an artifact folder and loads them back.

    Subclass it, then call ``register_materializer(MyMaterializer)``. ``save`` writes files through
    ``folder.open(name, "wb")`` (or ``folder.local_path(name)`` when the store is local); ``load``
    reads them. ``can_save`` may refuse a particular value (the next materializer along the MRO,
    and finally the pickle fallback, is tried instead).
    """

    handled_types: ClassVar[tuple[type, ...]] = ()
    artifact_type: ClassVar[ArtifactType] = ArtifactType.DATA

    def can_save(self, value: Any) -> bool:
        return True

    def save(self, value: Any, folder: ArtifactFolder) -> None:
        raise NotImplementedError(f"{type(self).__name__}.save")

    def load(self, data_type: type, folder: ArtifactFolder) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.load")

    def extract_metadata(self, value: Any) -> dict[str, Any]:
        """A cheap, JSON-able summary shown beside the artifact (shape, rows, length…)."""
        return {}

    def visualize(self, value: Any) -> dict[str, bytes]:
        """Pictures of ``value`` stored beside it: ``{"name.png": bytes}`` (also ``.jpg``,
        ``.html``, ``.md``, ``.csv``, ``.txt``). The dashboard shows them; the server serves them
        with their content type (HTML sandboxed). None by default."""
        return {}


_registered: dict[type, type[Materializer]] = {}
_candidates_cache: dict[type, tuple[type[Materializer], ...]] = {}
_resolved_tables: dict[str, type] = {}


def register_materializer(materializer_cls: type[Materializer], *types: type) -> None:
    """Use ``materializer_cls`` for ``types`` (default: its ``handled_types``) and subclasses."""
    if not (isinstance(materializer_cls, type) and issubclass(materializer_cls, Materializer)):
        raise MaterializerError(
            f"{materializer_cls!r} is not a Materializer subclass.",
            hint="Subclass modelplane.artifacts.materializers.Materializer and pass the class.",
        )
    targets = types or materializer_cls.handled_types
    if not targets:
        raise MaterializerError(
            f"{materializer_name(materializer_cls)} names no types to handle.",
            hint="Set handled_types on the class or pass the types to register_materializer().",
        )
    for target in targets:
        _registered[target] = materializer_cls
    _candidates_cache.clear()


def materializer_name(materializer_cls: type[Materializer]) -> str:
    """``module:Class``, the name recorded with every artifact version."""
    return f"{materializer_cls.__module__}:{materializer_cls.__qualname__}"


def type_path(type_: type) -> str:
    """``module:qualname`` of a type, as recorded in ``data_type``."""
    return f"{type_.__module__}:{type_.__qualname__}"


def is_pickle_materializer(name: str) -> bool:
    """True when loading an artifact saved by ``name`` unpickles (runs code)."""
    return name in _PICKLE_BASED or "pickle" in name.lower()


def _import_attribute(module_name: str, attribute_path: str, what: str) -> Any:
    try:
        found: Any = importlib.import_module(module_name)
        for part in attribute_path.split("."):
            found = getattr(found, part)
    except ImportError as exc:
        missing = (exc.name or module_name).split(".")[0]
        install = _INSTALL_HINT.get(missing, f"pip install {missing}")
        raise MaterializerError(
            f"The {what} {module_name}:{attribute_path} cannot be imported ({exc}).",
            hint=f"Install what it needs: {install}.",
        ) from exc
    except AttributeError as exc:
        raise MaterializerError(
            f"The {what} {module_name}:{attribute_path} does not exist ({exc}).",
            hint="Check the name; the code that defined it may have been renamed or removed.",
        ) from exc
    return found


def import_materializer(name: str) -> type[Materializer]:
    """The materializer class recorded as ``module:Class`` (importing its module)."""
    module_name, sep, qualname = name.partition(":")
    if not sep or not module_name or not qualname:
        raise MaterializerError(
            f"{name!r} is not a materializer name.",
            hint="Materializer names look like 'package.module:ClassName'.",
        )
    found = _import_attribute(module_name, qualname, "materializer")
    if not (isinstance(found, type) and issubclass(found, Materializer)):
        raise MaterializerError(
            f"{name} is not a Materializer subclass.",
            hint="Record the name of a class that subclasses modelplane's Materializer.",
        )
    return found


def import_type(path: str) -> type | None:
    """The type recorded as ``module:qualname``, or None when it cannot be imported here."""
    module_name, _, qualname = path.partition(":")
    if "<locals>" in qualname or not module_name:
        return None
    try:
        found: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        return None
    return found if isinstance(found, type) else None


def _table_class(key: str) -> type | None:
    """The class a table key names, if its package is already imported (no import happens)."""
    cached = _resolved_tables.get(key)
    if cached is not None:
        return cached
    module_name, _, attribute = key.rpartition(".")
    while module_name:
        module = sys.modules.get(module_name)
        if module is not None:
            found: Any = module
            for part in attribute.split("."):
                found = getattr(found, part, None)
            if isinstance(found, type):
                _resolved_tables[key] = found
                return found
            return None
        module_name, _, head = module_name.rpartition(".")
        attribute = f"{head}.{attribute}"
    return None


def _table_entry(cls: type) -> str | None:
    key = f"{cls.__module__}.{cls.__qualname__}"
    for table in (BUILTINS, INTEGRATIONS):
        if key in table:
            return table[key]
    # pandas.DataFrame lives in pandas.core.frame: compare class objects of imported packages.
    top = cls.__module__.split(".")[0]
    for table in (BUILTINS, INTEGRATIONS):
        for entry, target in table.items():
            if entry.split(".")[0] == top and _table_class(entry) is cls:
                return target
    return None


def materializer_candidates(type_: type) -> tuple[type[Materializer], ...]:
    """Materializers for ``type_``, most specific first along its MRO, ending with the fallback."""
    cached = _candidates_cache.get(type_)
    if cached is not None:
        return cached
    found: list[type[Materializer]] = []
    for cls in type_.__mro__:
        explicit = _registered.get(cls)
        if explicit is not None:
            candidate = explicit
        else:
            entry = _table_entry(cls)
            if entry is None:
                continue
            candidate = import_materializer(entry)
        if candidate not in found:
            found.append(candidate)
    fallback = import_materializer(PICKLE_FALLBACK)
    if fallback not in found:
        found.append(fallback)
    result = tuple(found)
    _candidates_cache[type_] = result
    return result


def materializer_for(type_: type) -> type[Materializer]:
    """The most specific materializer for ``type_`` (the pickle fallback when none is known)."""
    return materializer_candidates(type_)[0]


@dataclass(frozen=True)
class SavedArtifact:
    """What ``save_value`` wrote: everything an ArtifactVersion record needs about the bytes."""

    uri: str
    materializer: str
    data_type: str
    type: ArtifactType
    content_hash: str
    size: int
    metadata: dict[str, Any] = field(default_factory=dict)


def _choose(value: Any) -> Materializer:
    refused: list[str] = []
    for candidate in materializer_candidates(type(value)):
        instance = candidate()
        if instance.can_save(value):
            if materializer_name(candidate) == PICKLE_FALLBACK:
                _warn_pickle(value, refused)
            return instance
        refused.append(candidate.__qualname__)
    raise MaterializerError(  # pragma: no cover - the fallback accepts everything
        f"No materializer can save a value of type {type_path(type(value))}.",
        hint="Register one with register_materializer().",
    )


def _warn_pickle(value: Any, refused: list[str]) -> None:
    why = f" ({', '.join(refused)} refused this value)" if refused else ""
    logger.warning(
        "No materializer can save %s%s, so it is saved with cloudpickle; loading it runs code "
        "and may break across Python or library versions. Register one with "
        "modelplane.artifacts.materializers.register_materializer(MyMaterializer, %s).",
        type_path(type(value)),
        why,
        type(value).__qualname__,
    )


def save_value(
    store: ArtifactStore,
    artifact_version_id: str,
    value: Any,
    materializer: type[Materializer] | None = None,
    artifact_type: ArtifactType | None = None,
) -> SavedArtifact:
    """Write ``value`` as artifact version ``artifact_version_id`` and return what to record.

    The bytes go to a temporary folder and are moved into place before this returns; the caller
    commits metadata afterwards. A crash before the move leaves only temporary files
    (``gc_temp`` removes them); a crash between the move and the commit leaves a complete folder
    that no record points at. ``materializer`` overrides the choice by type; ``artifact_type``
    overrides the materializer's artifact type.
    """
    instance = materializer() if materializer is not None else _choose(value)
    name = materializer_name(type(instance))
    metadata = _json_safe(_extract(instance, value, name))
    with store.begin_write(artifact_version_id) as write:
        try:
            instance.save(value, write.folder)
            write_visualizations(instance, value, write.folder, name)
        except ModelplaneError:
            raise
        except Exception as exc:
            if isinstance(exc, OSError) and exc.errno in _STORAGE_ERRNOS:
                # A full disk or a spent quota is the store's doing, not the materializer's.
                raise ArtifactError(
                    f"The artifact store {store.root} could not take the value of type "
                    f"{type_path(type(value))}: {exc.strerror or exc}.",
                    hint="Free space (or quota) where the artifacts go, or point "
                    "MODELPLANE_ARTIFACT_URI elsewhere (`modelplane artifact migrate` moves the "
                    "existing ones), then run the pipeline again.",
                ) from exc
            hint = (
                f"Register a materializer for {type(value).__qualname__} with "
                "register_materializer(), or return a value modelplane can store."
                if name == PICKLE_FALLBACK
                else "Fix the materializer, or pass another one with materializer=…"
            )
            raise MaterializerError(
                f"{name} could not save a value of type {type_path(type(value))}: {exc}",
                hint=hint,
            ) from exc
        written = write.commit()
    return SavedArtifact(
        uri=written.uri,
        materializer=name,
        data_type=type_path(type(value)),
        type=artifact_type or type(instance).artifact_type,
        content_hash=written.content_hash,
        size=written.size,
        metadata=metadata,
    )


def _extract(instance: Materializer, value: Any, name: str) -> dict[str, Any]:
    try:
        return dict(instance.extract_metadata(value))
    except Exception as exc:
        raise MaterializerError(
            f"{name}.extract_metadata failed for a value of type {type_path(type(value))}: {exc}",
            hint="Make extract_metadata return a small dict of JSON values, or leave it out.",
        ) from exc


def load_value(
    store: ArtifactStore,
    *,
    uri: str,
    materializer: str,
    data_type: str,
    size: int | None = None,
    content_hash: str | None = None,
    verify_hash: bool = False,
) -> Any:
    """Load the value stored at ``uri`` with the recorded materializer.

    The recorded ``size`` is always checked (one listing); the ``content_hash`` only with
    ``verify_hash=True``, since that reads every byte twice.
    """
    if size is not None:
        actual = store.size(uri)
        if actual != size:
            raise ArtifactError(
                f"The artifact at {uri} has {actual} bytes, but {size} were recorded.",
                hint="Its files were changed or truncated after saving; re-run the step that "
                "produced it.",
            )
    if verify_hash and content_hash:
        algorithm = content_hash.partition(":")[0] if ":" in content_hash else "sha256"
        actual_hash = store.content_hash(uri, algorithm)
        if actual_hash != content_hash:
            raise ArtifactError(
                f"The artifact at {uri} has content hash {actual_hash}, but {content_hash} was "
                "recorded.",
                hint="Its files were changed after saving; re-run the step that produced it.",
            )
    folder = store.folder(uri)
    instance = import_materializer(materializer)()
    target = import_type(data_type) or object
    try:
        return instance.load(target, folder)
    except ModelplaneError:
        raise
    except Exception as exc:
        raise ArtifactError(
            f"{materializer} could not load the artifact at {uri} as {data_type}: {exc}",
            hint="Install the library versions it was saved with, or re-run the step that "
            "produced it.",
        ) from exc


def _json_safe(value: Any) -> Any:
    """``value`` with everything JSON cannot store exactly turned into plain values or text."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        try:
            return _json_safe(item())
        except (TypeError, ValueError):
            pass
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."
