"""The user's handle on a model version: ``Model`` (also spelled ``ModelVersion`` and ``ModelConfig``),
and ``ArtifactConfig`` for step outputs.

A ``Model`` is first a *request* (name, version spec, card fields, flags). It becomes *bound* to a
stored version, a ``ModelVersionHandle`` (model_handle.py), when a run resolves it at start (DESIGN §3
rule 3; this may create the version), or on first use outside a run, with read-only store calls.
"""

from __future__ import annotations

import copy
import logging
from typing import Any, Iterable

from modelplane.client import Client
from modelplane.enums import ArtifactType, ModelStages
from modelplane.errors import AlreadyExistsError, InvalidInputError
from modelplane.metadata.records import ArtifactLinkRecord, ArtifactVersionRecord, ModelVersionRecord, RunRecord
from modelplane.metadata.store import MODEL_CARD_FIELDS
from modelplane.model_handle import ModelVersionHandle, read_version
from modelplane.signatures import declared
from modelplane.versioning import check_name, parse_version_spec

__all__ = ["ArtifactConfig", "Model", "ModelConfig", "ModelVersion"]

logger = logging.getLogger("modelplane")
_IGNORED_KEYWORDS = {"save_models_to_registry", "suppress_class_validation_warnings", "was_created_in_this_run"}


class ArtifactConfig:
    """How a step output is stored and linked: its artifact name, tags, link kind and overwrite rule,
    and for a model, the input signature it takes when the one inferred would be wrong.

    ``overwrite=False`` (the default) adds one more linked version of this name to the model version on
    every run; ``overwrite=True`` replaces the earlier links of that name.
    """

    def __init__(
        self,
        name: str | None = None,
        *,
        artifact_name: str | None = None,
        tags: Iterable[str] = (),
        overwrite: bool = False,
        is_model_artifact: bool = False,
        is_deployment_artifact: bool = False,
        artifact_type: ArtifactType | str | None = None,
        input_signature: Any = None,
    ) -> None:
        if name and artifact_name and name != artifact_name:
            raise InvalidInputError(
                f"ArtifactConfig got name={name!r} and artifact_name={artifact_name!r}.",
                hint="They are the same setting; pass one.",
            )
        self.name = name or artifact_name
        if self.name is not None:
            check_name(self.name, "artifact")
        self.tags = list(tags)
        self.overwrite = overwrite
        if is_model_artifact and is_deployment_artifact:
            raise InvalidInputError(
                "An artifact cannot be both a model and a deployment artifact.",
                hint="Set only one of is_model_artifact / is_deployment_artifact.",
            )
        kind: ArtifactType | None = None
        if artifact_type is not None:
            try:
                kind = ArtifactType(str(artifact_type).lower())
            except ValueError:
                raise InvalidInputError(
                    f"Unknown artifact type {artifact_type!r}.",
                    hint=f"Use one of: {', '.join(t.value for t in ArtifactType)}.",
                ) from None
        if is_model_artifact:
            kind = ArtifactType.MODEL
        if is_deployment_artifact:
            kind = ArtifactType.DEPLOYMENT
        self.artifact_type = kind
        # The columns (and dtypes) the model takes, when inferring them from the step's DataFrame
        # inputs would not do: {"age": "int64", ...} or ["age", ...] (modelplane.signatures).
        self.input_signature = declared(input_signature) if input_signature is not None else None

    @property
    def artifact_name(self) -> str | None:
        return self.name

    def __repr__(self) -> str:
        signature = f", input_signature={self.input_signature!r}" if self.input_signature else ""
        return (
            f"ArtifactConfig(name={self.name!r}, type={self.artifact_type}, "
            f"overwrite={self.overwrite}{signature})"
        )


class Model:
    """A model and one of its versions: what a pipeline or step works with.

    What you write, ``Model(name=…, version=…, license=…)``, is a request. A pipeline run resolves it
    once, at start, and may create the model and the version; steps get the bound version from
    ``get_step_context().model``. Outside a run, the first use binds it to an existing version (a
    number, a name, a stage, ``latest``; no version given means the latest) with read-only store
    calls, and raises ``NotFoundError`` listing what exists when nothing matches: reading a model
    never creates or changes anything.

    A bound model reads its version's record once: ``number``, ``stage``, ``metadata``… make no store
    call, ``set_stage`` and ``log_metadata`` keep it current, and ``refresh()`` reads changes made
    elsewhere (another process, the CLI, the dashboard).
    """

    def __init__(
        self,
        name: str,
        version: Any = None,
        *,
        license: str | None = None,
        description: str | None = None,
        audience: str | None = None,
        use_cases: str | None = None,
        limitations: str | None = None,
        trade_offs: str | None = None,
        ethics: str | None = None,
        tags: Iterable[str] | None = None,
        version_description: str | None = None,
        create_new_model_version: bool = False,
        delete_new_version_on_failure: bool = True,
        **ignored: Any,
    ) -> None:
        unknown = set(ignored) - _IGNORED_KEYWORDS
        if unknown:
            raise TypeError(f"Model() got unexpected keyword argument(s): {', '.join(sorted(unknown))}")
        self.name = check_name(name, "model")
        spec = parse_version_spec(version)
        if create_new_model_version and spec.kind not in ("new", "name"):
            raise InvalidInputError(
                f"create_new_model_version=True cannot be combined with version={version!r}, "
                f"which names {spec.describe()}.",
                hint="Leave version out (or give a new version name) to create a version.",
            )
        self._spec_value = version
        self._spec = spec
        self.license = license
        self.description = description
        self.audience = audience
        self.use_cases = use_cases
        self.limitations = limitations
        self.trade_offs = trade_offs
        self.ethics = ethics
        self.tags = list(tags or [])
        self.version_description = version_description
        self.create_new_model_version = create_new_model_version
        self.delete_new_version_on_failure = delete_new_version_on_failure
        self._client: Client | None = None
        self._handle: ModelVersionHandle | None = None

    # -- the request -----------------------------------------------------------------------------
    @property
    def model_card(self) -> dict[str, Any]:
        return {field: getattr(self, field) for field in MODEL_CARD_FIELDS}

    @property
    def requested_version(self) -> Any:
        """The version spec as the user gave it (None, a number, a name or a stage)."""
        return self._spec_value

    @property
    def creates_versions(self) -> bool:
        return self._spec.kind in ("new", "name") or self.create_new_model_version

    # -- binding to a stored version -------------------------------------------------------------
    def _resolve_for_run(self, client: Client) -> Model:
        """Resolve the spec once, at run start; may create the model and a version."""
        record, created = client.ensure_model_version(
            self.name,
            self._spec_value if self._spec.kind != "new" else None,
            # Model(tags=…) tag the model as well as the version (`model list --tag` finds it).
            model_card={**self.model_card, "tags": self.tags},
            description=self.version_description,
            tags=self.tags,
        )
        if self.create_new_model_version and not created:
            raise AlreadyExistsError(
                f"Model '{self.name}' already has a version named '{record.name}', and "
                "create_new_model_version=True asks for a new one.",
                hint="Use a new version name, or drop create_new_model_version to reuse the version.",
            )
        if created and self._spec.kind == "name":
            logger.info("Created version '%s' of model '%s'.", record.name, self.name)
        return self.bound_copy(client, record, created=created, fresh=True)

    def bound_copy(
        self, client: Client, record: ModelVersionRecord, *, created: bool = False, fresh: bool = False
    ) -> Model:
        """A copy of this request bound to ``record`` (each run, and each step, gets its own handle).

        ``fresh=False`` (a step getting the record its run resolved at start) makes the first read of
        ``stage``/``metadata`` fetch the record once, so a step sees what earlier steps did.
        """
        clone = copy.copy(self)
        clone._client = client
        clone._handle = ModelVersionHandle(client, record, created=created, fresh=fresh)
        return clone

    def _bound(self) -> ModelVersionHandle:
        if self._handle is None:
            record = read_version(self.client, self.name, self._spec, self._spec_value)
            self._handle = ModelVersionHandle(self.client, record)
        return self._handle

    def _ensure_bound(self) -> ModelVersionRecord:
        """The bound version's record (binding read-only outside a run); no store call once bound."""
        return self._bound().cached_record

    def _get_model_version(self) -> Model:
        """The bound version (the reference page's spelling); binds it outside a run."""
        self._bound()
        return self

    def refresh(self) -> Model:
        """Read the bound version's record again, to see changes made elsewhere (another process, the
        CLI, the dashboard). It stays bound to the same version: to follow a stage to whichever
        version holds it now, make a new ``Model(name=…, version="production")``."""
        self._bound().refresh()
        return self

    @property
    def client(self) -> Client:
        if self._client is None:
            self._client = Client()
        return self._client

    @property
    def bound_version_id(self) -> str | None:
        """The id of the bound version, ``None`` before binding (never a store call)."""
        return self._handle.id if self._handle is not None else None

    @property
    def was_created_in_this_run(self) -> bool:
        return self._handle is not None and self._handle.was_created_in_this_run

    # -- what the stored version is (no store call once bound) -----------------------------------
    @property
    def id(self) -> str:
        return self._bound().id

    @property
    def model_id(self) -> str:
        return self._bound().model_id

    @property
    def number(self) -> int:
        return self._bound().number

    @property
    def version(self) -> Any:
        """The bound version's name; before binding, the spec the user gave."""
        return self._handle.name if self._handle is not None else self._spec_value

    @property
    def stage(self) -> ModelStages:
        return self._bound().stage

    @property
    def record(self) -> ModelVersionRecord:
        return self._bound().record

    @property
    def run_metadata(self) -> dict[str, Any]:
        return self._bound().metadata

    @property
    def metadata(self) -> dict[str, Any]:
        return self.run_metadata

    # -- changing it -----------------------------------------------------------------------------
    def set_stage(
        self,
        stage: ModelStages | str,
        force: bool = False,
        *,
        expected_current: int | None = None,
        reason: str | None = None,
    ) -> Model:
        self._bound().set_stage(stage, force, expected_current=expected_current, reason=reason)
        return self

    def log_metadata(self, metadata: dict[str, Any]) -> None:
        self._bound().log_metadata(metadata)

    # -- what is linked to it (read from the store on every call) --------------------------------
    def get_artifact(
        self, name: str, version: int | None = None, *, kind: ArtifactType | None = None
    ) -> ArtifactVersionRecord | None:
        """The linked artifact version called ``name`` (newest link, or the given artifact version)."""
        return self._bound().get_artifact(name, version, kind=kind)

    def get_model_artifact(self, name: str, version: int | None = None) -> ArtifactVersionRecord | None:
        return self.get_artifact(name, version, kind=ArtifactType.MODEL)

    def get_data_artifact(self, name: str, version: int | None = None) -> ArtifactVersionRecord | None:
        return self.get_artifact(name, version, kind=ArtifactType.DATA)

    def get_deployment_artifact(self, name: str, version: int | None = None) -> ArtifactVersionRecord | None:
        return self.get_artifact(name, version, kind=ArtifactType.DEPLOYMENT)

    def load_artifact(self, name: str, version: int | None = None) -> Any:
        return self._bound().load_artifact(name, version)

    @property
    def artifacts(self) -> list[ArtifactLinkRecord]:
        return self._bound().links()

    @property
    def data_artifacts(self) -> list[ArtifactLinkRecord]:
        return self._bound().links(ArtifactType.DATA)

    @property
    def model_artifacts(self) -> list[ArtifactLinkRecord]:
        return self._bound().links(ArtifactType.MODEL)

    @property
    def deployment_artifacts(self) -> list[ArtifactLinkRecord]:
        return self._bound().links(ArtifactType.DEPLOYMENT)

    @property
    def runs(self) -> list[RunRecord]:
        return self._bound().runs()

    def __repr__(self) -> str:
        if self._handle is not None:
            return f"Model(name={self.name!r}, version={self._handle.name!r}, number={self._handle.number})"
        return f"Model(name={self.name!r}, version={self._spec_value!r})"


# The older spellings from the reference page: the same class.
ModelVersion = Model
ModelConfig = Model
