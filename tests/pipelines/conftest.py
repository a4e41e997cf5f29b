from __future__ import annotations

import os

import pytest

# The same pipelines run on every orchestrator listed here. The Ray orchestrator joins when
# MODELPLANE_TEST_ORCHESTRATORS names it (its tests need a Ray cluster).
ORCHESTRATORS = [name for name in os.environ.get("MODELPLANE_TEST_ORCHESTRATORS", "local").split(",") if name]


@pytest.fixture(params=ORCHESTRATORS)
def orchestrator(request: pytest.FixtureRequest) -> str:
    return request.param
