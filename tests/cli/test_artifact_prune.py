"""``modelplane artifact prune``: removes what crashes leave in the artifact store — unfinished
writes and folders without an artifact version — and nothing that a record refers to."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest

from modelplane.client import Client
from modelplane.config import load_settings
from tests.cli.conftest import Cli
from tests.pipelines.resources.shapes import diamond_pipeline

HOURS_AGO = time.time() - 2 * 3600


def _backdate(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        os.utime(path, (HOURS_AGO, HOURS_AGO))


@pytest.fixture
def leftovers(cli: Cli) -> dict[str, Path]:
    """A store after one good run, plus each kind of leftover; all old except ``fresh``."""
    diamond_pipeline()
    client = Client(load_settings())
    artifacts = client.artifact_store

    unfinished = artifacts.begin_write(uuid.uuid4().hex)  # the process died mid-write
    with unfinished.folder.open("data.bin", "wb") as f:
        f.write(b"x" * 1000)
    never_recorded = artifacts.begin_write(uuid.uuid4().hex)  # died between move and commit
    with never_recorded.folder.open("data.bin", "wb") as f:
        f.write(b"y" * 2000)
    never_recorded_uri = never_recorded.commit().uri
    fresh = artifacts.begin_write(uuid.uuid4().hex)  # a write in flight right now
    with fresh.folder.open("data.bin", "wb") as f:
        f.write(b"z")
    fresh_uri = fresh.commit().uri
    # Record deleted, then the process died before removing the bytes.
    deleted = client.list_artifact_versions().items[-1]
    client.store.delete_artifact_version(deleted.id)

    root = Path(artifacts.root)
    found = {
        "unfinished": next((root / ".tmp").iterdir()),
        "never_recorded": Path(never_recorded_uri),
        "deleted_record": Path(deleted.uri),
        "fresh": Path(fresh_uri),
    }
    for name, folder in found.items():
        assert folder.is_dir(), name
        if name != "fresh":
            _backdate(folder)
    return found


def _recorded_artifacts_load(client: Client) -> int:
    versions = client.list_artifact_versions(limit=1000).items
    for version in versions:
        client.load_artifact_version(version)  # bytes present, size and hash as recorded
    return len(versions)


def test_dry_run_lists_old_leftovers_and_removes_nothing(cli: Cli, leftovers: dict[str, Path]) -> None:
    ran = cli("artifact", "prune", "--dry-run", "-o", "json")

    assert ran.exit_code == 0, ran.stderr
    listed = {item["uri"]: item["reason"] for item in ran.json()["items"]}
    assert listed == {
        f"{Path(load_settings().artifact_uri)}/.tmp/{leftovers['unfinished'].name}": "unfinished write",
        str(leftovers["never_recorded"]): "no artifact version",
        str(leftovers["deleted_record"]): "no artifact version",
    }
    assert ran.json()["bytes"] >= 3000 and ran.json()["removed"] is False
    assert all(folder.exists() for folder in leftovers.values())


def test_prune_removes_leftovers_keeps_fresh_ones_and_every_recorded_artifact(
    cli: Cli, leftovers: dict[str, Path]
) -> None:
    client = Client(load_settings())
    recorded = _recorded_artifacts_load(client)

    ran = cli("artifact", "prune", "-y")

    assert ran.exit_code == 0, ran.stderr
    assert "Removed 3 folders" in ran.stdout
    assert not leftovers["unfinished"].exists()
    assert not leftovers["never_recorded"].exists()
    assert not leftovers["deleted_record"].exists()
    assert leftovers["fresh"].exists()  # younger than the 1 h grace period
    assert _recorded_artifacts_load(client) == recorded
    again = cli("artifact", "prune", "-y")
    assert again.exit_code == 0 and "Nothing to prune" in again.stdout
    zero = cli("artifact", "prune", "-y", "--older-than", "0s", "-o", "json")
    assert [item["uri"] for item in zero.json()["items"]] == [str(leftovers["fresh"])]
    assert _recorded_artifacts_load(client) == recorded


@pytest.mark.parametrize("answer", ["n\n", ""])
def test_prune_asks_first_and_a_no_or_no_answer_removes_nothing(
    cli: Cli, leftovers: dict[str, Path], answer: str
) -> None:
    ran = cli("artifact", "prune", input=answer)

    assert ran.exit_code == 1
    assert "Remove these 3 folders" in ran.stderr
    assert all(folder.exists() for folder in leftovers.values())


def test_prune_refuses_when_the_metadata_store_looks_wrong(
    cli: Cli, leftovers: dict[str, Path], tmp_path: Path
) -> None:
    # The right artifact folder with an empty metadata store: every folder looks unreferenced.
    artifacts = Client(load_settings()).artifact_store
    for _ in range(8):
        write = artifacts.begin_write(uuid.uuid4().hex)
        with write.folder.open("data.bin", "wb") as f:
            f.write(b"w")
        _backdate(Path(write.commit().uri))
    env = {"MODELPLANE_STORE_URL": f"sqlite:///{tmp_path / 'other.db'}"}

    ran = cli("artifact", "prune", "-y", env=env)

    assert ran.exit_code == 1
    assert "looks like the wrong metadata store" in ran.stderr
    assert "MODELPLANE_STORE_URL" in ran.stderr
    assert all(folder.exists() for folder in leftovers.values())
    forced = cli("artifact", "prune", "--dry-run", "--force", "-o", "json", env=env)
    # Only the old ones: the run's own folders are younger than the grace period.
    assert forced.exit_code == 0 and forced.json()["total"] == 3 + 8


@pytest.mark.parametrize("age", ["5x", "-1h", "soon"])
def test_a_bad_age_is_a_usage_error(cli: Cli, age: str) -> None:
    ran = cli("artifact", "prune", "--older-than", age)

    assert ran.exit_code == 2
    assert "--older-than" in ran.stderr
