"""``modelplane serve`` as a real process: MLflow's scoring protocol, following the stage with no
failed request, refusing broken versions, canaries, and the deployment records."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from typing import Any, Callable

import pytest

from modelplane.client import Client
from tests.serving.conftest import ONE_ROW, VERSION_HEADER, Load, Served, service_env, wait_for
from tests.serving.models import COLUMNS, iris_frame, train_broken, train_flaky, train_iris

Serve = Callable[..., Served]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "modelplane", *args], capture_output=True, text=True,
        env=service_env(), timeout=120,
    )


@pytest.fixture
def production(client: Client) -> Client:
    """Model ``iris``: version 1 in production."""
    train_iris(c=1.0)
    client.set_stage("iris", 1, "production")
    return client


def test_the_four_input_shapes_of_mlflows_protocol_get_the_same_predictions(
    production: Client, serve: Serve
) -> None:
    served = serve("iris", "--stage", "production")
    rows = iris_frame()[COLUMNS].iloc[[0, 60, 120]]
    expected = production.load_artifact_version(
        production.list_artifact_links("iris", 1, kind="model").items[0].artifact_version
    ).predict(rows).tolist()
    bodies: list[Any] = [
        {"dataframe_split": {"columns": COLUMNS, "data": rows.values.tolist()}},
        {"dataframe_split": rows.to_dict(orient="split")},
        {"dataframe_records": rows.to_dict(orient="records")},
        {"instances": rows.values.tolist()},
        {"instances": rows.to_dict(orient="records")},
        {"inputs": rows.to_dict(orient="list")},
        {"inputs": rows.values.tolist(), "params": {"ignored": True}},
    ]
    for body in bodies:
        answer = served.post(body)
        assert answer.status_code == 200, (body, answer.text)
        assert answer.json() == {"predictions": expected}
        assert answer.headers[VERSION_HEADER] == "1"
    # Extra columns are dropped and columns are reordered to the model's signature.
    shuffled = rows.assign(extra=1)[["extra", *reversed(COLUMNS)]]
    assert served.post({"dataframe_records": shuffled.to_dict(orient="records")}).json() == {"predictions": expected}


_MISFITS: list[tuple[Any, str]] = [
    ({"dataframe_records": [{"sepal length (cm)": 5.1}]}, "'petal width (cm)'"),
    ({"instances": [[5.1, 3.5]]}, "have 2 values; the model takes 4"),
    ({"dataframe_split": {"columns": COLUMNS, "data": [[1, 2, 3]]}}, "has 3 values for 4 columns"),
    ({"dataframe_records": [dict.fromkeys(COLUMNS, "tall")]}, "cannot be read as float64"),
    ({"rows": []}, "exactly one of dataframe_split"),
    ({"instances": [[1, 2, 3, 4]], "inputs": [[1, 2, 3, 4]]}, "it holds instances, inputs"),
    ({"dataframe_split": {"columns": COLUMNS}}, '"columns" and "data"'),
    ([1, 2], "must be a JSON object"),
    ({"dataframe_split": {"columns": [*COLUMNS, COLUMNS[0]], "data": [[1.0, 2.0, 3.0, 4.0, 5.0]]}}, "more than once"),
]


def test_requests_that_do_not_fit_get_400_naming_the_column_or_shape(
    production: Client, serve: Serve
) -> None:
    served = serve("iris")
    for body, named in _MISFITS:
        answer = served.post(body)
        assert answer.status_code == 400, (body, answer.text)
        assert named in answer.json()["message"], (body, answer.json())
        assert answer.headers[VERSION_HEADER] == "1"
    garbage = served.http.post("/invocations", content=b"{nope")
    assert garbage.status_code == 400 and "not JSON" in garbage.json()["message"]
    assert served.post().status_code == 200  # nothing above was counted as the model failing
    assert 'modelplane_serve_errors_total{model="iris",version="1"}' not in served.get("/metrics").text


def test_health_ready_version_and_metrics(production: Client, serve: Serve) -> None:
    served = serve("iris", "--stage", "production")
    assert served.get("/health").json() == {"status": "ok"}
    assert served.get("/ready").json() == {"status": "ready", "version": 1}
    described = served.get("/version").json()
    assert (described["model"], described["version"], described["stage"]) == ("iris", 1, "production")
    assert described["since"] and described["deployment_id"]
    for _ in range(3):
        assert served.post().status_code == 200
    metrics = served.get("/metrics").text
    assert 'modelplane_serve_requests_total{model="iris",version="1"} 3.0' in metrics
    assert 'modelplane_serve_request_seconds_bucket{le="+Inf",model="iris",version="1"} 3.0' in metrics


def test_a_promotion_and_a_rollback_under_load_fail_no_request(production: Client, serve: Serve) -> None:
    train_iris(c=0.01)  # version 2, a different model
    served = serve("iris", "--stage", "production")
    with Load(served) as load:
        wait_for(lambda: len(load.answers) > 20, what="the first answers")
        promoted = time.monotonic()
        production.set_stage("iris", 2, "production", force=True)
        switched = load.first_answer_from("2", promoted)
        wait_for(lambda: len(load.answers) > 0 and load.answers[-1][0] > switched + 0.5, what="more answers")
        rolled = time.monotonic()
        production.rollback_stage("iris", "production")
        back = load.first_answer_from("1", rolled)
        wait_for(lambda: load.answers[-1][0] > back + 0.5, what="more answers")
    assert load.failures == []
    assert switched - promoted < 2.0 and back - rolled < 2.0
    # Once the new version answered, the old one never did again: the swap is one step.
    versions = [served_by for moment, _, served_by in load.answers if promoted <= moment]
    first_two = versions.index("2")
    after_rollback = next(i for i, v in enumerate(versions) if i > first_two and v == "1")
    assert set(versions[first_two:after_rollback]) == {"2"}
    assert set(versions[after_rollback:]) == {"1"}
    events = [e.kind for e in production.get_deployment(served.get("/version").json()["deployment_id"]).events]
    assert events[:3] == ["started", "swapped", "swapped"]


def test_a_version_that_cannot_answer_is_not_swapped_in(production: Client, serve: Serve) -> None:
    train_broken()  # version 2
    served = serve("iris", "--stage", "production")
    with Load(served) as load:
        wait_for(lambda: len(load.answers) > 10, what="the first answers")
        production.set_stage("iris", 2, "production", force=True)
        deployment_id = served.get("/version").json()["deployment_id"]

        def refused() -> Any:
            record = production.get_deployment(deployment_id)
            return record if any(e.kind == "swap_refused" for e in record.events) else None

        record = wait_for(refused, what="the refusal to be recorded")
        count = len(load.answers)
        wait_for(lambda: len(load.answers) > count + 20, what="answers after the refusal")
    assert load.failures == []
    assert {served_by for _, _, served_by in load.answers} == {"1"}
    refusal = next(e for e in record.events if e.kind == "swap_refused")
    assert refusal.version == 2 and "this model was saved broken" in refusal.message
    assert record.version == 1 and "Still serving version 1" in (record.message or "")
    assert "Version 2 was not swapped in" in served.output()
    assert served.get("/version").json()["version"] == 1


def test_a_canary_gets_its_share_and_answers_say_which_version_served(
    production: Client, serve: Serve
) -> None:
    train_iris(c=0.5)  # version 2
    production.set_stage("iris", 2, "staging")
    served = serve("iris", "--canary", "staging=10")
    wait_for(lambda: served.get("/version").json()["canary"]["version"] == 2, what="the canary")
    seen = [served.post().headers[VERSION_HEADER] for _ in range(2000)]
    share = seen.count("2") / len(seen)
    assert 0.05 <= share <= 0.15 and set(seen) == {"1", "2"}
    record = production.get_deployment(served.get("/version").json()["deployment_id"])
    wait_for(lambda: production.get_deployment(record.id).traffic.get("2"), what="a report")
    traffic = wait_for(
        lambda: (t := production.get_deployment(record.id).traffic)["1"].requests + t["2"].requests == 2000 and t,
        what="the report of all 2000 requests",
    )
    assert traffic["2"].requests == seen.count("2") and traffic["2"].errors == 0
    listed = _cli("model", "version", "deployments", "iris", "2")
    assert listed.returncode == 0 and served.url in listed.stdout and "canary 10%" in listed.stdout


def test_a_canary_above_its_error_rate_is_cut_off_and_webhooks_hear_of_it(
    production: Client, serve: Serve
) -> None:
    production.create_webhook("https://ci.example.com/hooks", model="iris")
    train_flaky()  # version 2: every third request fails
    production.set_stage("iris", 2, "staging")
    served = serve("iris", "--canary", "staging=50", "--max-error-rate", "0.02")
    wait_for(lambda: served.get("/version").json()["canary"]["version"] == 2, what="the canary")
    answers = [served.post() for _ in range(400)]
    assert {a.status_code for a in answers} == {200}  # the main version answers what the canary fails
    versions = [a.headers[VERSION_HEADER] for a in answers]
    assert "2" in versions and versions[-100:] == ["1"] * 100  # cut off, then never asked again
    assert served.get("/version").json()["canary"]["state"] == "cut_off"
    deployment_id = served.get("/version").json()["deployment_id"]
    record = wait_for(
        lambda: (r := production.get_deployment(deployment_id)).canary_state == "cut_off" and r,
        what="the cut-off to be recorded",
    )
    cut = next(e for e in record.events if e.kind == "canary_cut_off")
    assert cut.version == 2 and "error rate" in cut.message
    deliveries = [
        d for d in production.list_webhook_deliveries().items if d.event.startswith("deployment.")
    ]
    assert [d.event for d in deliveries] == ["deployment.canary_cut_off"]
    assert deliveries[0].payload["version"] == 2


def test_deployments_are_listed_by_the_reference_commands_and_marked_when_they_end(
    production: Client, serve: Serve
) -> None:
    served = serve("iris")
    for command in ("deployments", "endpoint_artifacts"):
        listed = _cli("model", "version", command, "iris", "1")
        assert listed.returncode == 0, listed.stderr
        assert served.url in listed.stdout and "serving" in listed.stdout and "follows production" in listed.stdout
    assert _cli("model", "version", "deployments", "iris", "1", "-o", "json").returncode == 0
    deployment_id = served.get("/version").json()["deployment_id"]
    served.stop(signal.SIGTERM)
    assert production.get_deployment(deployment_id).status == "stopped"
    assert "No service is serving version 1" in _cli("model", "version", "deployments", "iris", "1").stdout
    assert "stopped" in _cli("model", "version", "deployments", "iris", "1", "--all").stdout

    killed = serve("iris")
    killed_id = killed.get("/version").json()["deployment_id"]
    killed.stop(signal.SIGKILL)
    wait_for(lambda: production.get_deployment(killed_id).status == "gone", what="the service to read as gone")
    assert [d.id for d in production.reap_gone_deployments()] == [killed_id]


def test_bad_serve_commands_fail_with_a_clear_error(production: Client) -> None:
    for args, named in [
        (("nope",), "nope"),
        (("iris", "--canary", "staging"), "STAGE=PERCENT"),
        (("iris", "--canary", "production=10"), "is the stage being served"),
        (("iris", "--max-error-rate", "0.1"), "no --canary"),
        (("iris", "--stage", "staging", "--version", "1"), "both choose"),
    ]:
        result = _cli("serve", *args)
        assert result.returncode != 0 and named in result.stderr, (args, result.stderr)
    assert production.list_deployments(include_ended=True).total == 0


def test_a_pinned_version_stays_and_workers_each_register(production: Client, serve: Serve) -> None:
    train_iris(c=0.01)  # version 2
    pinned = serve("iris", "--version", "1", "--workers", "2")
    workers = wait_for(
        lambda: (found := production.list_deployments(model="iris", version=1)).total == 2 and found,
        what="both worker processes to register",
    )
    assert len({d.pid for d in workers}) == 2 and all(d.pinned_version == 1 and d.stage is None for d in workers)
    production.set_stage("iris", 2, "production", force=True)
    time.sleep(1.0)  # several poll periods: a pinned service must not move
    assert {pinned.post().headers[VERSION_HEADER] for _ in range(20)} == {"1"}
    assert "pinned" in _cli("model", "version", "deployments", "iris", "1").stdout
