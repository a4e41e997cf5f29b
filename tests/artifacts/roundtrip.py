"""Save a value through the materializers and load it back, checking size and hash."""

from __future__ import annotations

from typing import Any

from modelplane.artifacts.io import SavedArtifact, load_value, save_value
from modelplane.artifacts.store import new_artifact_id


def round_trip(store: Any, value: Any, **kwargs: Any) -> tuple[SavedArtifact, Any]:
    saved = save_value(store, new_artifact_id(), value, **kwargs)
    loaded = load_value(
        store,
        uri=saved.uri,
        materializer=saved.materializer,
        data_type=saved.data_type,
        size=saved.size,
        content_hash=saved.content_hash,
        verify_hash=True,
    )
    return saved, loaded
