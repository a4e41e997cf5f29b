"""The team deployment of docs/deploy.md, end to end on one machine: a real Ray cluster (`ray start --head`
plus a worker node process), metadata in PostgreSQL, artifacts in S3 (moto's standalone server on
loopback), and the modelplane server in front of the same database.

The reference page's training pipeline runs on Ray from one driver process talking to PostgreSQL;
its prediction pipeline runs twice from another driver talking to the server with a token. A third,
separate client process then reads the model version, its links and the predictions.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path
from typing import Iterator

import pytest

from tests.mcp.test_reference_page import PREDICT, STEPS, TRAIN
from tests.s3.moto_server import free_port

pytestmark = [pytest.mark.ray, pytest.mark.slow]

POSTGRES_ADMIN_URL = os.environ.get(
    "MODELPLANE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

CHECK = '''
import json

from modelplane.client import Client

client = Client()
version = client.get_model_version("iris_classifier", "production")
links = client.list_artifact_links("iris_classifier", version.number, limit=100).items
runs = client.list_model_version_runs("iris_classifier", version.number).items
predictions = [link for link in links if link.name == "iris_predictions"]
print(json.dumps({
    "number": version.number,
    "versions": client.list_model_versions("iris_classifier").total,
    "links": sorted([link.name, str(link.kind)] for link in links),
    "runs": sorted([r.pipeline_name, str(r.status), r.orchestrator] for r in runs),
    "predictions": [client.load_artifact_version(link.artifact_version).tolist() for link in predictions],
    "uris": sorted(link.artifact_version.uri for link in links),
    "steps": sorted(
        [s.name, str(s.status)] for r in runs for s in client.list_step_runs(r.id)
    ),
}))
'''


def _sql_url(database: str) -> str:
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{database}"


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database of this test's own, dropped afterwards."""
    psycopg = pytest.importorskip("psycopg")
    name = f"mp_ray_{uuid.uuid4().hex[:12]}"
    admin = POSTGRES_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield _sql_url(name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def team_server(postgres_database: str, ray_cluster, tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """`modelplane server start` on the database and the bucket: (url, token, artifact uri)."""
    bucket = ray_cluster.moto.new_bucket()
    artifact_uri = f"s3://{bucket}/team"
    token = secrets.token_urlsafe(24)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELPLANE_")}
    env.update(ray_cluster.moto.env, MODELPLANE_HOME=str(tmp_path / "server-home"), MODELPLANE_ADMIN_TOKEN=token)
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("modelplane")), "server", "start", "--port", str(port),
         "--store-url", postgres_database, "--artifact-uri", artifact_uri, "--no-access-log"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        import httpx

        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start:\n{(tmp_path / 'server.log').read_text()}")
            time.sleep(0.2)
        yield url, token, artifact_uri
    finally:
        server.terminate()
        server.wait(timeout=30)


def _run(folder: Path, name: str, code: str, env: dict[str, str]) -> str:
    script = folder / f"{name}.py"
    script.write_text(textwrap.dedent(code))
    result = subprocess.run(
        [sys.executable, str(script)], cwd=folder, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"{name} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _expected_predictions() -> list[int]:
    """The reference page's model and sample, computed here without modelplane."""
    from sklearn.datasets import load_iris
    from sklearn.model_selection import train_test_split
    from sklearn.svm import SVC

    X, y = load_iris(return_X_y=True, as_frame=True)
    X_train, _, y_train, _ = train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)
    model = SVC(gamma=0.1).fit(X_train, y_train)
    return model.predict(X.sample(n=10, random_state=1)).tolist()


def test_reference_pipelines_on_ray_with_postgres_s3_and_server(
    ray_cluster, postgres_database: str, team_server: tuple[str, str, str], tmp_path: Path
) -> None:
    pytest.importorskip("sklearn")
    server_url, token, artifact_uri = team_server
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "page_steps.py").write_text(textwrap.dedent(STEPS))
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MODELPLANE_", "AWS_", "RAY_"))}
    base.update(ray_cluster.moto.env, MODELPLANE_HOME=str(tmp_path / "client-home"))
    driver = {**base, **ray_cluster.driver_env, "MODELPLANE_ORCHESTRATOR": "ray",
              "MODELPLANE_RAY_ADDRESS": ray_cluster.address}
    # An engineer whose machine reaches the database trains; a colleague predicts through the server.
    _run(folder, "train", TRAIN, {**driver, "MODELPLANE_STORE_URL": postgres_database,
                                  "MODELPLANE_ARTIFACT_URI": artifact_uri})
    through_server = {**driver, "MODELPLANE_STORE_URL": server_url, "MODELPLANE_API_TOKEN": token}
    _run(folder, "predict", PREDICT, through_server)
    _run(folder, "predict", PREDICT, through_server)

    checker = {**base, "MODELPLANE_STORE_URL": postgres_database, "MODELPLANE_ARTIFACT_URI": artifact_uri}
    seen = json.loads(_run(tmp_path, "check", CHECK, checker).strip().splitlines()[-1])
    assert seen["number"] == 1 and seen["versions"] == 1
    assert seen["runs"] == [
        ["do_predictions", "completed", "ray"],
        ["do_predictions", "completed", "ray"],
        ["train_and_promote_model", "completed", "ray"],
    ]
    names = [name for name, _ in seen["links"]]
    assert names.count("iris_predictions") == 2 and names.count("inference_dataset") == 2
    assert ["trained_model", "model"] in seen["links"]
    assert {"X_train", "X_test", "y_train", "y_test", "training_acc"} <= set(names)
    expected = _expected_predictions()
    assert seen["predictions"] == [expected, expected]
    assert {status for _, status in seen["steps"]} == {"completed"}
    assert {name for name, _ in seen["steps"]} == {
        "training_data_loader", "svc_trainer", "evaluator", "promote_model", "inference_loader", "predict",
    }

    # Every linked artifact is in the bucket, read with boto3 rather than s3fs; no temporary keys remain.
    bucket = artifact_uri.split("/")[2]
    keys = ray_cluster.moto.keys(bucket, "team/")
    assert seen["uris"] and all(uri.startswith(f"{artifact_uri}/") for uri in seen["uris"])
    for uri in seen["uris"]:
        assert any(key.startswith(uri[len(f"s3://{bucket}/"):] + "/") for key in keys), uri
    assert not [key for key in keys if key.startswith("team/.tmp/")]
