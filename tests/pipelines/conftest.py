from __future__ import annotations

import os

import pytest

# The same pipelines run on every orchestrator listed here. The Ray orchestrator joins when
# MODELPLANE_TEST_ORCHESTRATORS names it (e.g. "local,ray"); its runs go to the session's real Ray
# cluster (tests/ray/cluster.py: `ray start --head` plus a worker node), which this process joins.
ORCHESTRATORS = [name for name in os.environ.get("MODELPLANE_TEST_ORCHESTRATORS", "local").split(",") if name]


@pytest.fixture(scope="session")
def ray_cluster():  # noqa: ANN201 - tests.ray.cluster.RayCluster
    from tests.ray.cluster import require_ray, shared_cluster

    require_ray()
    return shared_cluster()


@pytest.fixture(params=ORCHESTRATORS)
def orchestrator(request: pytest.FixtureRequest) -> str:
    if request.param == "ray":
        request.getfixturevalue("ray_cluster")
    return request.param
