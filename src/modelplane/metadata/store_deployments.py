"""The deployment half of the ``MetadataStore`` contract: inference services and what they serve.

Declared as in ``store.py`` (which holds the conventions every operation follows);
``MetadataStore`` inherits these operations. A service registers once, reports every
``report_seconds`` (the store stamps ``last_seen`` with its own clock), and reports ``stopped``
when it ends; one that falls silent for ``SILENT_REPORTS`` periods reads as ``gone`` and is marked
so by ``reap_gone_deployments``.
"""

from __future__ import annotations

from typing import Protocol

from modelplane.metadata.deployment_records import DeploymentRecord, DeploymentReport, NewDeployment
from modelplane.metadata.operations import operation
from modelplane.metadata.records import Page
from modelplane.metadata.store_types import PageLimit, PageOffset, VersionRef

__all__ = ["CANARY_CUT_OFF", "DeploymentOperations", "SILENT_REPORTS"]

SILENT_REPORTS = 3
# The webhook event a canary cut-off sends (beside ``model_version.stage_changed``).
CANARY_CUT_OFF = "deployment.canary_cut_off"


class DeploymentOperations(Protocol):
    @operation('POST', '/deployments')
    def register_deployment(self, deployment: NewDeployment) -> DeploymentRecord:
        """Record a service that is starting: ``starting``, serving nothing yet."""

    @operation('POST', '/deployments/{deployment_id}/report')
    def report_deployment(self, deployment_id: str, report: DeploymentReport) -> DeploymentRecord:
        """Record what the service serves and answered, and the events since its last report
        (kept: the newest 100), at the store's time; ``stopped`` ends it. A ``canary_cut_off``
        event is announced to the model's webhooks in the same transaction. Versions are numbers
        of the deployment's model and must exist."""

    @operation('GET', '/deployments/{deployment_id}')
    def get_deployment(self, deployment_id: str) -> DeploymentRecord: ...

    @operation('GET', '/deployments')
    def list_deployments(
        self,
        *,
        model: str | None = None,
        version: VersionRef | None = None,
        include_ended: bool = False,
        limit: PageLimit = 50,
        offset: PageOffset = 0,
    ) -> Page[DeploymentRecord]:
        """Services, newest first: those of ``model``; with ``version``, those serving it (as
        their main version or their canary). Stopped and gone ones only with ``include_ended``."""

    @operation('POST', '/deployments/reap')
    def reap_gone_deployments(self) -> list[DeploymentRecord]:
        """Mark ``gone`` the services silent for ``SILENT_REPORTS`` report periods by the store's
        clock; returns them. Reading deployments already shows them gone; this records it."""
