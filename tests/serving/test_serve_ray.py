"""``modelplane serve --ray``: replicas on the session's real Ray cluster follow the stage with
the same no-failure swap, each a deployment of its own."""

from __future__ import annotations

import signal
import time
from typing import Any, Callable

import pytest

from modelplane.client import Client
from tests.serving.conftest import Load, Served, wait_for
from tests.serving.models import train_iris


@pytest.fixture(scope="module")
def ray_cluster() -> Any:
    from tests.ray.cluster import require_ray, shared_cluster

    require_ray()
    return shared_cluster()


def test_ray_serve_replicas_follow_the_stage_without_a_failed_request(
    client: Client, serve: Callable[..., Served], ray_cluster: Any
) -> None:
    train_iris(c=1.0)
    train_iris(c=0.01)
    client.set_stage("iris", 1, "production")
    served = serve("iris", "--ray", ray_cluster.address, "--replicas", "2", env=ray_cluster.driver_env)
    replicas = wait_for(
        lambda: (found := client.list_deployments(model="iris", version=1)).total == 2 and found,
        what="both replicas to register",
    )
    assert {d.endpoint for d in replicas} == {served.url} and len({d.pid for d in replicas}) == 2
    with Load(served) as load:
        wait_for(lambda: len(load.answers) > 20, what="the first answers")
        promoted = time.monotonic()
        client.set_stage("iris", 2, "production", force=True)
        switched = load.first_answer_from("2", promoted)
        # Both replicas have swapped once every answer for a while comes from version 2.
        wait_for(
            lambda: (recent := [v for m, _, v in load.answers if m > switched + 1.0])[20:] and set(recent) == {"2"},
            what="every replica to answer with version 2",
        )
    assert load.failures == []
    assert switched - promoted < 2.0
    serving_two = wait_for(
        lambda: (found := client.list_deployments(model="iris", version=2)).total == 2 and found,
        what="both replicas to report version 2",
    )
    assert all(d.version == 2 and d.stage == "production" for d in serving_two)
    served.stop(signal.SIGINT)
