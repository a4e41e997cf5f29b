"""``ExternalArtifact``: hand a step a value or an existing artifact version from outside the pipeline."""

from __future__ import annotations

from typing import Any

from modelplane.errors import InvalidInputError

__all__ = ["ExternalArtifact", "is_stored_version"]

_UNSET: Any = object()
# What every stored artifact version record has (metadata.records.ArtifactVersionRecord; this layer
# does not import the metadata package, so it is recognised by these fields).
_STORED_FIELDS = ("id", "uri", "materializer", "content_hash", "version")


def is_stored_version(value: Any) -> bool:
    """Whether ``value`` is a stored artifact version's record (an ``ArtifactVersionRecord``)."""
    return value is not _UNSET and all(
        isinstance(getattr(value, field, None), (str, int)) for field in _STORED_FIELDS
    )


class ExternalArtifact:
    """One of, resolved when the run starts and recorded as the step's input:

    - ``ExternalArtifact(value=…)``: the value is saved as a new artifact version;
    - ``ExternalArtifact(id=…)``: an artifact version by id; ``ExternalArtifact(record)`` with an
      ``ArtifactVersionRecord`` (``model.get_model_artifact(…)``) means that version too;
    - ``ExternalArtifact(name=…, version=None)``: an artifact by name (highest version when ``None``);
    - ``ExternalArtifact(model_artifact_name=…, model_name=None, model_version=None)``: the artifact
      linked under that name to a model version; model and version default to the pipeline's model.
    """

    def __init__(
        self,
        value: Any = _UNSET,
        *,
        id: str | None = None,
        name: str | None = None,
        version: int | str | None = None,
        model_artifact_name: str | None = None,
        model_name: str | None = None,
        model_version: Any = None,
        materializer: Any = None,
    ) -> None:
        if id is None and is_stored_version(value):
            # An ArtifactVersionRecord (e.g. Model.get_model_artifact(…)): that version, not a copy.
            value, id = _UNSET, value.id
        chosen = [
            label
            for label, given in (
                ("value", value is not _UNSET),
                ("id", id is not None),
                ("name", name is not None),
                ("model_artifact_name", model_artifact_name is not None),
            )
            if given
        ]
        if len(chosen) != 1:
            raise InvalidInputError(
                f"ExternalArtifact got {', '.join(chosen) or 'nothing'} to identify the artifact.",
                hint="Pass exactly one of value=, id=, name= (with optional version=) or model_artifact_name=.",
            )
        if version is not None and name is None:
            raise InvalidInputError(
                "ExternalArtifact(version=…) needs name= too.", hint="Pass name= together with version=."
            )
        self.value = value
        self.id = id
        self.name = name
        self.version = version
        self.model_artifact_name = model_artifact_name
        self.model_name = model_name
        self.model_version = model_version
        self.materializer = materializer

    @property
    def has_value(self) -> bool:
        return self.value is not _UNSET

    def __repr__(self) -> str:
        if self.has_value:
            return f"ExternalArtifact(value={type(self.value).__name__})"
        if self.id:
            return f"ExternalArtifact(id={self.id!r})"
        if self.name:
            return f"ExternalArtifact(name={self.name!r}, version={self.version!r})"
        return (
            f"ExternalArtifact(model_artifact_name={self.model_artifact_name!r}, "
            f"model_name={self.model_name!r}, model_version={self.model_version!r})"
        )
