"""The artifact entry points under a short name: ``save_value``, ``load_value``, ``SavedArtifact``.

They live in ``artifacts.materializers``, beside the registry they use; this re-exports them.
"""

from __future__ import annotations

from modelplane.artifacts.materializers import SavedArtifact, load_value, save_value

__all__ = ["SavedArtifact", "load_value", "save_value"]
