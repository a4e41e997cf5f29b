"""The model half of the ``MetadataStore`` contract: models, versions, stages, links, comparison.

Declared as in ``store.py`` (which holds the conventions every operation follows);
``MetadataStore`` inherits these operations.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol, Sequence

from modelplane.enums import ArtifactType, ModelStages
from modelplane.metadata.operations import operation
from modelplane.metadata.records import (
    ArtifactLinkRecord,
    EnsuredVersion,
    ModelRecord,
    ModelVersionRecord,
    Page,
    RunRecord,
    StageChangeRecord,
    VersionComparison,
    VersionLineage,
)
from modelplane.metadata.store_types import PageLimit, PageOffset, VersionRef

__all__ = ["ModelOperations"]


class ModelOperations(Protocol):
    # -- models -------------------------------------------------------------------------------
    @operation('POST', '/models')
    def create_model(
        self,
        name: str,
        *,
        tags: Sequence[str] = (),
        gates: dict[str, list[str]] | None = None,
        **card: str | None,
    ) -> ModelRecord:
        """``gates``: per target stage, the rules a version must meet to enter it (modelplane.gates)."""

    @operation('GET', '/models/{model}')
    def get_model(self, model: str) -> ModelRecord: ...

    @operation('GET', '/models')
    def list_models(
        self,
        *,
        name: str | None = None,
        tag: str | None = None,
        sort: str = "name",
        limit: PageLimit = 50,
        offset: PageOffset = 0,
    ) -> Page[ModelRecord]:
        """``name`` matches a substring; ``sort`` is ``name``, ``created`` or ``-created``."""

    @operation('PATCH', '/models/{model}')
    def update_model(
        self,
        model: str,
        *,
        new_name: str | None = None,
        add_tags: Sequence[str] = (),
        remove_tags: Sequence[str] = (),
        gates: dict[str, list[str]] | None = None,
        **card: str | None,
    ) -> ModelRecord:
        """Card fields given as ``None`` are left as they are; ``gates``, when given, replace the
        model's gates (``{}`` removes them all)."""

    @operation('DELETE', '/models/{model}')
    def delete_model(self, model: str) -> None:
        """Delete the model, its versions, their links and stage history; runs and artifacts stay."""

    @operation('POST', '/models/{model}/versions', caller='created_by')
    def create_model_version(
        self,
        model: str,
        *,
        name: str | None = None,
        description: str | None = None,
        tags: Sequence[str] = (),
        metadata: dict[str, Any] | None = None,
        created_by: str | None = None,
    ) -> ModelVersionRecord:
        """A new version numbered max-ever + 1 inside the write transaction (numbers never reused).
        ``created_by``: who made it (the token's owner through a server, the login name locally)."""

    @operation('POST', '/models/{model}/ensure-version', caller='created_by')
    def ensure_model_version(
        self,
        model: str,
        version: VersionRef | None,
        *,
        model_card: dict[str, Any] | None = None,
        description: str | None = None,
        tags: Sequence[str] = (),
        created_by: str | None = None,
    ) -> EnsuredVersion:
        """Resolve a run's version spec once: ``None`` creates a version (and the model if needed),
        a name is get-or-create, a number/stage/``latest`` must exist. Returns (version, created): unpack it as a pair.

        ``model_card``: the card of a model created here; its ``tags`` entry also tags an existing
        model (added, never removed) when the spec is ``None`` or a name. ``tags`` tag a created
        version."""

    @operation('GET', '/models/{model}/versions/{version}')
    def get_model_version(self, model: str, version: VersionRef) -> ModelVersionRecord: ...

    @operation('GET', '/model-versions/{model_version_id}')
    def get_model_version_by_id(self, model_version_id: str) -> ModelVersionRecord: ...

    @operation('GET', '/models/{model}/versions')
    def list_model_versions(
        self,
        model: str,
        *,
        stage: ModelStages | str | None = None,
        tag: str | None = None,
        name: str | None = None,
        sort: str = "-number",
        limit: PageLimit = 50,
        offset: PageOffset = 0,
    ) -> Page[ModelVersionRecord]: ...

    @operation('PATCH', '/models/{model}/versions/{version}')
    def update_model_version(
        self,
        model: str,
        version: VersionRef,
        *,
        name: str | None = None,
        description: str | None = None,
        add_tags: Sequence[str] = (),
        remove_tags: Sequence[str] = (),
    ) -> ModelVersionRecord: ...

    @operation('DELETE', '/models/{model}/versions/{version}')
    def delete_model_version(self, model: str, version: VersionRef, *, force: bool = False) -> None:
        """Refuses a version holding staging or production unless ``force``."""

    @operation('PUT', '/models/{model}/versions/{version}/stage', caller='actor')
    def set_stage(
        self,
        model: str,
        version: VersionRef,
        stage: ModelStages | str,
        *,
        force: bool = False,
        expected_current: int | None = None,
        actor: str | None = None,
        reason: str | None = None,
        step_run_id: str | None = None,
    ) -> ModelVersionRecord:
        """Move a version to ``stage`` in one transaction: one holder of staging and of production
        at a time, ``force`` archives the holder. ``expected_current`` is compare-and-set: the
        number that must hold the stage now, 0 for "nobody".

        A move the model's gates refuse raises ``PromotionBlockedError`` naming the failed gates,
        and is the one failure that changes something: a stage change of kind ``refused`` (with
        the failures as its reason) is committed to the history first. It moves nothing, and no
        holder, ``get_stage_holder_at`` or rollback counts it.

        ``step_run_id``: the step run asking for the move of its run's model version; the same
        transaction records the request (stage, force, reason) in that step run's
        ``model_version_changes``, so a cache hit of the step asks for it again."""

    @operation('GET', '/models/{model}/stage-changes')
    def list_stage_changes(
        self,
        model: str,
        *,
        version: VersionRef | None = None,
        stage: ModelStages | str | None = None,
        limit: PageLimit = 100,
        offset: PageOffset = 0,
    ) -> Page[StageChangeRecord]: ...

    @operation('GET', '/models/{model}/stages/{stage}/holder')
    def get_stage_holder_at(
        self, model: str, stage: ModelStages | str, at: datetime
    ) -> ModelVersionRecord | None: ...

    @operation('POST', '/models/{model}/stages/{stage}/rollback', caller='actor')
    def rollback_stage(
        self, model: str, stage: ModelStages | str, *, actor: str | None = None, reason: str | None = None
    ) -> ModelVersionRecord:
        """Give ``stage`` back to the version that held it before the current holder."""

    # -- links --------------------------------------------------------------------------------
    @operation('POST', '/model-versions/{model_version_id}/artifact-links')
    def link_artifact(
        self,
        model_version_id: str,
        artifact_version_id: str,
        *,
        name: str,
        kind: ArtifactType,
        overwrite: bool = False,
    ) -> ArtifactLinkRecord:
        """``overwrite=True`` replaces the version's links called ``name``; otherwise adds one."""

    @operation('GET', '/models/{model}/versions/{version}/artifact-links')
    def list_artifact_links(
        self,
        model: str,
        version: VersionRef,
        *,
        kind: ArtifactType | str | None = None,
        name: str | None = None,
        limit: PageLimit = 100,
        offset: PageOffset = 0,
    ) -> Page[ArtifactLinkRecord]:
        """The version's links to artifact versions, newest first."""

    @operation('PUT', '/model-versions/{model_version_id}/runs/{run_id}')
    def link_run(self, model_version_id: str, run_id: str) -> None: ...

    @operation('GET', '/models/{model}/versions/{version}/lineage')
    def get_version_lineage(self, model: str, version: VersionRef) -> VersionLineage:
        """The version's linked runs (newest first, at most 50), their step runs and the artifact
        versions those read and wrote, and which artifact versions are linked to it: enough to
        draw where the version came from and where it went."""

    @operation('GET', '/models/{model}/versions/{version}/link-counts')
    def count_version_links(self, model: str, version: VersionRef) -> dict[str, int]:
        """How many runs, and data, model and deployment artifacts, are linked to the version
        (``runs``, ``data_artifacts``, ``model_artifacts``, ``deployment_artifacts``)."""

    @operation('GET', '/models/{model}/versions/{version}/runs')
    def list_model_version_runs(
        self, model: str, version: VersionRef, *, limit: PageLimit = 50, offset: PageOffset = 0
    ) -> Page[RunRecord]:
        """The runs linked to the version, newest first."""

    # -- comparison ---------------------------------------------------------------------------
    @operation('GET', '/models/{model}/compare')
    def compare_model_versions(
        self, model: str, versions: Sequence[VersionRef]
    ) -> VersionComparison:
        """Two or more versions of ``model`` side by side, in the order given (over HTTP:
        ``?versions=1&versions=production``): overview, metadata, the parameters of the runs that
        trained them and their linked artifacts, each row saying whether the versions differ
        (``VersionComparison``). The CLI and the dashboard display this; they compute nothing.

        Fewer than two versions, or one named twice (``1`` and ``"1"``), is ``InvalidInputError``;
        two specs naming the same version (``production`` and ``1``) are compared as given.
        Unknown versions are ``NotFoundError`` naming all of them.
        """

