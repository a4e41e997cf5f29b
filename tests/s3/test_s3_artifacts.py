"""Pipelines with an S3 artifact store: bytes under s3://bucket/prefix, written to a temporary key first,
with metadata committed only after the final keys exist; a failed or killed save leaves no record."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from modelplane import pipeline, step
from modelplane.artifacts.materializers import Materializer
from modelplane.client import Client, close_open_stores
from modelplane.config import load_settings
from modelplane.enums import ExecutionStatus
from modelplane.errors import StepFailedError

from tests.pipelines.resources.shapes import SHAPES

from .conftest import S3Place

pytestmark = pytest.mark.slow


class Halfway(Exception):
    pass


class FailingMaterializer(Materializer):
    """Writes one file, then fails before the second."""

    handled_types = (dict,)

    def save(self, value: dict, folder) -> None:  # noqa: ANN001
        with folder.open("part1", "wb") as fileobj:
            fileobj.write(b"first half")
        raise Halfway("disk on fire")


@step(output_materializers=FailingMaterializer)
def unsavable() -> dict:
    return {"a": 1}


@pipeline(enable_cache=False)
def unsavable_pipeline():
    unsavable()


def test_pipeline_outputs_live_in_s3_and_load_from_a_new_client(s3_place: S3Place, client: Client) -> None:
    pipe, oracle = SHAPES["diamond"]
    run = pipe()
    assert run.status is ExecutionStatus.COMPLETED
    records = [
        client.store.get_artifact_version(av_id) for s in client.list_step_runs(run.id) for av_id in s.outputs.values()
    ]
    assert records and all(r.uri.startswith(f"{s3_place.uri}/") for r in records)
    final = s3_place.final_keys()
    for record in records:
        assert [k for k in final if k.startswith(record.uri.split("/", 3)[3] + "/")], record.uri
    assert s3_place.temp_keys() == []
    close_open_stores()
    fresh = Client(load_settings())
    assert {s.name: fresh.load_artifact(next(iter(s.outputs.values()))) for s in fresh.list_step_runs(run.id)} == oracle()


def test_failed_save_leaves_no_record_and_no_keys(s3_place: S3Place, client: Client) -> None:
    with pytest.raises(StepFailedError, match="disk on fire"):
        unsavable_pipeline()
    run = client.list_runs(pipeline="unsavable_pipeline").items[0]
    (step_run,) = client.list_step_runs(run.id)
    assert step_run.status is ExecutionStatus.FAILED and step_run.outputs == {}
    assert client.list_artifact_versions().total == 0
    assert s3_place.keys() == []  # the temporary folder was removed too


CHILD = '''
import sys
from typing import Annotated

from modelplane import pipeline, step
from modelplane.artifacts.materializers import Materializer
from modelplane.client import Client

STAGE = sys.argv[1]


class TwoFiles(Materializer):
    handled_types = (dict,)

    def save(self, value, folder):
        for name in ("part1", "part2"):
            with folder.open(name, "wb") as fileobj:
                fileobj.write(name.encode() * 1000)
            if STAGE == "temp" and name == "part1":
                print("paused", flush=True)
                sys.stdin.readline()  # killed here, with one temporary file written


@step(output_materializers=TwoFiles, enable_cache=False)
def produce() -> Annotated[dict, "two_files"]:
    return {"a": 1}


@pipeline(enable_cache=False)
def two_files_pipeline():
    produce()


if STAGE == "copy":
    fs = Client().artifact_store._ops.fs
    copy = fs.cp_file

    def pausing_copy(source, target, **kwargs):
        copy(source, target, **kwargs)
        if source.endswith("part1"):
            print("paused", flush=True)
            sys.stdin.readline()  # killed here, with one file copied to its final key

    fs.cp_file = pausing_copy
two_files_pipeline()
'''


@pytest.mark.parametrize("stage", ["temp", "copy"], ids=["while writing the temporary key", "while copying into place"])
def test_killed_save_never_leaves_metadata_pointing_at_partial_bytes(
    s3_place: S3Place, client: Client, tmp_path: Path, stage: str
) -> None:
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(CHILD))
    child = subprocess.Popen(
        [sys.executable, str(script), stage], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env=dict(os.environ),
    )
    try:
        assert child.stdout.readline().strip() == "paused"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert client.list_artifact_versions().total == 0  # nothing recorded, whatever reached S3
    run = client.list_runs(pipeline="two_files_pipeline").items[0]
    (step_run,) = client.list_step_runs(run.id)
    assert step_run.outputs == {}
    if stage == "temp":
        assert s3_place.final_keys() == [] and len(s3_place.temp_keys()) == 1
    else:
        assert [key.rsplit("/", 1)[1] for key in s3_place.final_keys()] == ["part1"]
    # `modelplane artifact prune` clears both: the temporary key, and the partial final copy.
    pruned = client.prune_artifacts(older_than=0)
    expected = (["no artifact version"] if stage == "copy" else []) + ["unfinished write"]
    assert sorted(leftover.reason for leftover in pruned) == expected
    assert s3_place.temp_keys() == [] and s3_place.final_keys() == []


def test_missing_s3fs_is_a_config_error_naming_the_extra(s3_place: S3Place, tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        import sys
        sys.modules["s3fs"] = None  # as if the [s3] extra were not installed
        from modelplane.client import Client
        from modelplane.errors import ConfigError
        try:
            Client().artifact_store
        except ConfigError as exc:
            print("CONFIG-ERROR", exc)
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=dict(os.environ))
    assert "CONFIG-ERROR" in result.stdout, result.stderr
    assert s3_place.uri in result.stdout and "modelplane[s3]" in result.stdout


def test_migrate_moves_a_local_store_to_s3_and_everything_stays_readable(
    s3_place: S3Place, client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's growth story: artifacts written to a local folder, then moved to S3."""
    from click.testing import CliRunner

    from modelplane.cli import main

    local = tmp_path / "local-artifacts"
    monkeypatch.setenv("MODELPLANE_ARTIFACT_URI", str(local))
    pipe, _ = SHAPES["diamond"]
    run = pipe()
    records = [
        client.get_artifact_version(av) for s in client.list_step_runs(run.id) for av in s.outputs.values()
    ]
    assert records and all(r.uri.startswith(str(local)) for r in records)
    before = {r.id: client.load_artifact_version(r) for r in records}

    done = CliRunner().invoke(main, ["artifact", "migrate", "--to", s3_place.uri, "-y"])
    assert done.exit_code == 0, done.output
    monkeypatch.setenv("MODELPLANE_ARTIFACT_URI", s3_place.uri)
    fresh = Client(load_settings())
    moved = [fresh.get_artifact_version(r.id) for r in records]
    assert all(r.uri == f"{s3_place.uri}/{r.id}" for r in moved)
    assert {r.id for r in moved} <= {key.split("/")[1] for key in s3_place.final_keys()}
    assert not s3_place.temp_keys()
    assert not [p for p in local.iterdir() if p.name != ".tmp"]  # the local folders went
    for record in moved:
        assert repr(fresh.load_artifact_version(record)) == repr(before[record.id])
