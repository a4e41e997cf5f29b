"""Cache keys: a step is skipped when its code, parameters, inputs and output settings match a
finished step run whose outputs still exist."""

from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = ["cache_key"]


def cache_key(
    *,
    source_hash: str,
    parameters: dict[str, Any],
    inputs: dict[str, str],
    outputs: dict[str, Any],
) -> str:
    """``outputs`` maps each output name to what decides how it is stored (artifact name, materializer)."""
    material = json.dumps(
        {"source": source_hash, "parameters": parameters, "inputs": inputs, "outputs": outputs},
        sort_keys=True,
        default=repr,
    )
    return hashlib.sha256(material.encode()).hexdigest()
