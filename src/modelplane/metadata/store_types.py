"""The argument types and constants the store operations share (``store.py``, ``store_models.py``)."""

from __future__ import annotations

from typing import Annotated, Literal

from modelplane.enums import ModelStages
from modelplane.metadata.reads import MAX_PAGE
from modelplane.metadata.record_base import Bounds

__all__ = [
    "MAX_OFFSET",
    "MODEL_CARD_FIELDS",
    "STEP_CHANGES_KEY",
    "MetadataTarget",
    "PageLimit",
    "PageOffset",
    "VersionRef",
]

VersionRef = int | str | ModelStages
# The bounds of a page. Declared in the signatures (the server's routes check them and publish them
# in the OpenAPI document); the SQL store checks the same bounds for local callers.
MAX_OFFSET = 2**63 - 1  # SQLite's 64-bit INTEGER
PageLimit = Annotated[int, Bounds(ge=1, le=MAX_PAGE)]
PageOffset = Annotated[int, Bounds(ge=0, le=MAX_OFFSET)]
MetadataTarget = Literal["model_version", "artifact_version", "step_run", "run"]
# The step run metadata entry recording what the step did to its run's model version:
# {"metadata": {...logged...}, "stages": [{"stage": …, "force": …, "reason": …}, …]}.
STEP_CHANGES_KEY = "model_version_changes"
# The descriptive fields of a model (its "card"), in display order.
MODEL_CARD_FIELDS = (
    "license",
    "description",
    "audience",
    "use_cases",
    "limitations",
    "trade_offs",
    "ethics",
)
