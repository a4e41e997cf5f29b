"""Every error modelplane raises on purpose.

The tree (only these cross module boundaries; the server maps only these to HTTP codes):

    ModelplaneError                    base; ``.hint`` says what to do next
    ├── ConfigError                    bad settings: malformed store URL, missing extra
    ├── StoreError                     the metadata store cannot be used
    │   └── SchemaVersionError         the database was written by a newer modelplane
    ├── NotFoundError                  an unknown model, version, stage holder, run, artifact…
    ├── AlreadyExistsError             a duplicate name
    ├── InvalidInputError              a value breaks a rule (empty name, stage ``latest``…)
    │   └── StageConflictError         the stage is held and ``force`` was not given, or the
    │       │                          compare-and-set expectation did not hold
    │       └── PromotionBlockedError  the version does not meet the model's gates for the stage
    ├── AuthError                      missing, wrong or revoked API token
    │   └── PermissionDeniedError      the token's role does not allow the call
    ├── ArtifactError                  artifact bytes missing, corrupt, or unloadable
    │   └── MaterializerError          no way to save or load a type
    ├── ServiceUnavailableError        an inference service has no model version loaded yet
    ├── PipelineDefinitionError        a pipeline cannot be traced (with the user's file:line)
    └── PipelineRunError               a run failed; ``__cause__`` is the user's exception
        └── StepFailedError            one step raised
"""

from __future__ import annotations

__all__ = [
    "AlreadyExistsError",
    "ArtifactError",
    "AuthError",
    "ConfigError",
    "InvalidInputError",
    "MaterializerError",
    "ModelplaneError",
    "NotFoundError",
    "PipelineDefinitionError",
    "PermissionDeniedError",
    "PipelineRunError",
    "PromotionBlockedError",
    "SchemaVersionError",
    "ServiceUnavailableError",
    "StageConflictError",
    "StepFailedError",
    "StoreError",
    "error_class",
]


class ModelplaneError(Exception):
    """Base of every modelplane error. ``hint`` tells the user what to do about it."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message} {hint}" if hint else message)


class ConfigError(ModelplaneError):
    """Settings cannot be used: a malformed URL, an unknown option, a missing extra."""


class StoreError(ModelplaneError):
    """The metadata store cannot be opened or used."""


class SchemaVersionError(StoreError):
    """The database schema is newer than this modelplane understands."""


class NotFoundError(ModelplaneError):
    """Something the user named does not exist."""


class AlreadyExistsError(ModelplaneError):
    """A name is taken."""


class InvalidInputError(ModelplaneError):
    """A value breaks a rule."""


class StageConflictError(InvalidInputError):
    """A stage is held by another version, or it is not held by the version the caller expected."""


class PromotionBlockedError(StageConflictError):
    """The version does not meet the gates its model sets for the target stage (``force`` does not
    bypass them; change the model's gates or the version's metadata)."""


class AuthError(ModelplaneError):
    """The API token is missing, wrong or revoked."""


class PermissionDeniedError(AuthError):
    """The token is valid, but its role (viewer, editor) does not allow this call."""


class ArtifactError(ModelplaneError):
    """Artifact bytes are missing, corrupt or cannot be read."""


class MaterializerError(ArtifactError):
    """No materializer can save or load a value of this type."""


class ServiceUnavailableError(ModelplaneError):
    """An inference service has no model version to answer with (yet)."""


class PipelineDefinitionError(ModelplaneError):
    """A pipeline body cannot be turned into a valid DAG."""


class PipelineRunError(ModelplaneError):
    """A pipeline run failed."""


class StepFailedError(PipelineRunError):
    """A step raised; the original exception is the ``__cause__``."""


def error_class(name: str) -> type[ModelplaneError]:
    """The error class called ``name`` (used to rebuild errors that crossed HTTP)."""
    found = globals().get(name)
    if isinstance(found, type) and issubclass(found, ModelplaneError):
        return found
    return ModelplaneError
