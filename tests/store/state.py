"""A snapshot of everything a store holds, through the public contract only, to check that a
failing call changed nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from modelplane.metadata.records import ArtifactVersionRecord
from modelplane.metadata.store import MetadataStore

__all__ = ["ArtifactFactory", "snapshot"]

# The ``make_artifact`` fixture: records an artifact version, keyword arguments override fields.
ArtifactFactory = Callable[..., ArtifactVersionRecord]


def snapshot(store: MetadataStore) -> dict[str, Any]:
    state: dict[str, Any] = {"counts": store.info().counts}
    for model in store.list_models(limit=1000).items:
        versions = store.list_model_versions(model.name, limit=1000).items
        state[f"model:{model.name}"] = model.model_dump()
        for version in versions:
            state[f"version:{model.name}:{version.number}"] = version.model_dump()
            links = store.list_artifact_links(version.model_id, version.id, limit=1000).items
            state[f"links:{version.id}"] = sorted(
                (link.name, link.artifact_version.id) for link in links
            )
            runs = store.list_model_version_runs(version.model_id, version.id, limit=1000).items
            state[f"runs:{version.id}"] = sorted(run.id for run in runs)
        state[f"history:{model.name}"] = [
            c.id for c in store.list_stage_changes(model.name, limit=1000).items
        ]
    for run in store.list_runs(limit=1000).items:
        state[f"run:{run.id}"] = run.model_dump()
        state[f"steps:{run.id}"] = [s.model_dump() for s in store.list_step_runs(run.id)]
    state["artifact_versions"] = [
        a.model_dump() for a in store.list_artifact_versions(limit=1000).items
    ]
    state["pipelines"] = [p.model_dump() for p in store.list_pipelines(limit=1000).items]
    state["tokens"] = [t.model_dump() for t in store.list_tokens()]
    state["users"] = [u.model_dump() for u in store.list_users()]
    state["webhooks"] = [w.model_dump() for w in store.list_webhooks()]
    state["deliveries"] = [
        d.model_dump() for d in store.list_webhook_deliveries(limit=1000).items
    ]
    return state
