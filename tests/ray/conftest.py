"""The Ray tests share one real cluster per session (tests/ray/cluster.py), which this process joins."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def ray_cluster():  # noqa: ANN201 - tests.ray.cluster.RayCluster
    from tests.ray.cluster import require_ray, shared_cluster

    require_ray()
    return shared_cluster()
