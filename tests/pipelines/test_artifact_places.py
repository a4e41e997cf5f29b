"""Artifacts stay readable wherever they were written; the cache never serves bytes that are gone;
``modelplane artifact migrate`` moves a store's bytes, each copy checked before its record moves."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from modelplane import pipeline, step
from modelplane.artifacts.store import FsspecArtifactStore
from modelplane.cli import main
from modelplane.client import Client
from modelplane.config import load_settings
from modelplane.enums import ExecutionStatus
from modelplane.errors import ArtifactError

CALLS: list[str] = []


@step
def make(n: int = 3) -> list[int]:
    CALLS.append("make")
    return list(range(n))


@step
def total(values: list[int]) -> int:
    CALLS.append("total")
    return sum(values)


@pipeline
def places(n: int = 3) -> None:
    total(make(n=n))


def _statuses(client: Client, run_id: str) -> dict[str, ExecutionStatus]:
    return {s.name: s.status for s in client.list_step_runs(run_id)}


def _outputs(client: Client, run_id: str) -> dict[str, object]:
    return {
        s.name: client.get_artifact_version(s.outputs["output"]) for s in client.list_step_runs(run_id)
    }


@pytest.fixture
def first_root(client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """One run of ``places`` written to ``first/``; the artifact URI then moves to ``second/``."""
    root = tmp_path / "first"
    monkeypatch.setenv("MODELPLANE_ARTIFACT_URI", str(root))
    CALLS.clear()
    places()
    monkeypatch.setenv("MODELPLANE_ARTIFACT_URI", str(tmp_path / "second"))
    return root


def test_artifacts_written_before_the_uri_changed_stay_readable(first_root: Path) -> None:
    client = Client(load_settings())
    run = client.list_runs().items[0]
    outputs = _outputs(client, run.id)
    assert all(record.uri.startswith(str(first_root)) for record in outputs.values())
    assert client.load_artifact_version(outputs["make"]) == [0, 1, 2]
    assert client.load_artifact_version(outputs["total"]) == 3


def test_a_cache_hit_after_the_uri_changed_serves_the_old_bytes(first_root: Path) -> None:
    again = places()
    client = Client(load_settings())
    assert set(_statuses(client, again.id).values()) == {ExecutionStatus.CACHED}
    assert CALLS == ["make", "total"]  # nothing ran twice


def test_a_cache_hit_whose_bytes_are_gone_runs_the_step_again(first_root: Path) -> None:
    client = Client(load_settings())
    first = client.list_runs().items[0]
    made = _outputs(client, first.id)["make"]
    shutil.rmtree(_local(made.uri))
    again = places()
    statuses = _statuses(client, again.id)
    assert statuses["make"] is ExecutionStatus.COMPLETED  # ran again: its cached bytes were gone
    assert CALLS == ["make", "total", "make", "total"]  # total's input changed place, so it ran too
    fresh = _outputs(client, again.id)["make"]
    assert client.load_artifact_version(fresh) == [0, 1, 2]
    assert fresh.uri.startswith(str(first_root.parent / "second"))


def _local(uri: str) -> Path:
    return Path(uri.removeprefix("file://"))


def _migrate(*args: str) -> tuple[int, str, str]:
    done = CliRunner().invoke(main, ["artifact", "migrate", *args], catch_exceptions=False)
    return done.exit_code, done.stdout, done.stderr


def test_migrate_moves_every_version_and_each_stays_readable(first_root: Path, tmp_path: Path) -> None:
    target = tmp_path / "moved"
    code, out, _ = _migrate("--to", str(target), "--dry-run", "-o", "json")
    planned = json.loads(out)
    assert code == 0 and planned["dry_run"] and len(planned["items"]) == 2
    assert len(list(first_root.glob("[0-9a-f]*"))) == 2  # a dry run moves nothing

    code, out, err = _migrate("--to", str(target), "-y")
    assert code == 0, err
    assert "Moved 2 of 2; 0 failed." in out
    assert f"MODELPLANE_ARTIFACT_URI={target}" in err  # new artifacts still go to second/
    client = Client(load_settings())
    outputs = _outputs(client, client.list_runs().items[0].id)
    assert all(record.uri.startswith(str(target)) for record in outputs.values())
    assert client.load_artifact_version(outputs["make"]) == [0, 1, 2]
    assert not list(first_root.glob("[0-9a-f]*"))  # the old folders went
    assert _migrate("--to", str(target), "-y")[1].startswith("Nothing to move")


def test_migrate_keep_leaves_the_old_folders(first_root: Path, tmp_path: Path) -> None:
    code, out, _ = _migrate("--to", str(tmp_path / "copy"), "--keep", "-y")
    assert code == 0
    assert len(list(first_root.glob("[0-9a-f]*"))) == 2


def test_a_damaged_source_is_not_moved_and_the_command_fails(first_root: Path, tmp_path: Path) -> None:
    client = Client(load_settings())
    made = _outputs(client, client.list_runs().items[0].id)["make"]
    for file in _local(made.uri).rglob("*"):
        if file.is_file():
            file.write_bytes(file.read_bytes() + b" ")  # bit rot
    target = tmp_path / "moved"
    code, out, _ = _migrate("--to", str(target), "-y", "-o", "json")
    result = json.loads(out)
    assert code == 1 and result["failed"] == 1
    failed = [item for item in result["items"] if item["error"]]
    assert failed[0]["artifact_version_id"] == made.id and "does not match" in failed[0]["error"]
    assert client.get_artifact_version(made.id).uri == made.uri  # its record did not move
    assert not (target / made.id).exists()  # and no copy was left in the target


def test_a_bad_target_is_refused_before_anything_moves(first_root: Path) -> None:
    code, _, err = _migrate("--to", "nosuchscheme://x", "-y")
    assert code == 1 and "nosuchscheme" in err
    assert len(list(first_root.glob("[0-9a-f]*"))) == 2


def test_a_store_that_reads_only_its_own_root_refuses_other_roots(first_root: Path, tmp_path: Path) -> None:
    client = Client(load_settings())
    made = _outputs(client, client.list_runs().items[0].id)["make"]
    strict = FsspecArtifactStore(str(tmp_path / "second"), read_anywhere=False)  # as the server's
    with pytest.raises(ArtifactError, match="not a folder of the artifact store"):
        strict.folder(made.uri)
    assert FsspecArtifactStore(str(tmp_path / "second")).folder(made.uri).files()
