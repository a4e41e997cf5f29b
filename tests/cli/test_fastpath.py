"""The SQLite shortcut of ``model list`` and ``model version list`` prints what the client does."""

from __future__ import annotations

import contextlib
import sqlite3

import pytest

from modelplane.cli import fastpath
from modelplane.client import Client
from modelplane.config import load_settings
from modelplane.metadata.sql.engine import SCHEMA_HEAD
from tests.cli.conftest import Cli

CASES = [
    ("model", "list"),
    ("model", "list", "--name", "IRIS"),
    ("model", "list", "--name", "_"),  # a LIKE wildcard, matched literally
    ("model", "list", "--tag", "demo"),
    ("model", "list", "--sort", "-created", "--limit", "2", "--page", "2"),
    ("model", "list", "--page", "9"),
    ("model", "version", "list", "iris"),
    ("model", "version", "list", "iris", "--stage", "production"),
    ("model", "version", "list", "iris", "--stage", "latest"),
    ("model", "version", "list", "iris", "--stage", "Archived"),
    ("model", "version", "list", "iris", "--tag", "new", "--limit", "1"),
    ("model", "version", "list", "iris", "--limit", "2", "--page", "2"),
    ("model", "version", "list", "empty"),
]


@pytest.fixture
def varied(iris: Client) -> Client:
    iris.create_model("iris_2", tags=["demo", "x"])
    iris.create_model("a%b")
    iris.create_model("empty")
    iris.add_metadata(
        "model_version",
        iris.get_model_version("iris", 2).id,
        {"accuracy": 0.9, "nested": {"k": [1]}},
    )
    return iris


@pytest.mark.parametrize("args", CASES, ids=[" ".join(c[1:]) for c in CASES])
@pytest.mark.parametrize("fmt", ["json", "table"])
def test_same_output_with_and_without_the_shortcut(
    cli: Cli, varied: Client, args: tuple[str, ...], fmt: str
) -> None:
    fast = cli(*args, "-o", fmt)
    slow = cli(*args, "-o", fmt, env={"MODELPLANE_CLI_FASTPATH": "0"})
    assert fast.exit_code == slow.exit_code == 0
    assert fast.stdout == slow.stdout


def test_the_shortcut_answers_on_a_current_sqlite_store(varied: Client) -> None:
    settings = load_settings()
    found = fastpath.list_models(settings, name=None, tag=None, sort="name", limit=50, offset=0)
    assert found is not None
    assert found["total"] == 4
    versions = fastpath.list_model_versions(
        settings, "iris", stage=None, tag=None, limit=50, offset=0
    )
    assert versions is not None
    assert [v["number"] for v in versions["items"]] == [4, 3, 2, 1]


def test_the_shortcut_steps_aside_for_what_it_does_not_know(
    varied: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings()
    # unknown model: the client path words the error
    assert (
        fastpath.list_model_versions(settings, "nope", stage=None, tag=None, limit=50, offset=0)
        is None
    )
    # a store that does not exist yet: the client creates it
    missing = settings.with_overrides(store_url=f"sqlite:///{settings.home}/missing.db")
    assert (
        fastpath.list_models(missing, name=None, tag=None, sort="name", limit=50, offset=0) is None
    )
    assert not (settings.home / "missing.db").exists()
    # another schema revision
    db = str(settings.home / "store.db")
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("UPDATE alembic_version SET version_num = 'zzzz_future'")
    assert (
        fastpath.list_models(settings, name=None, tag=None, sort="name", limit=50, offset=0) is None
    )
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", [SCHEMA_HEAD])
    # switched off
    monkeypatch.setenv("MODELPLANE_CLI_FASTPATH", "0")
    assert (
        fastpath.list_models(settings, name=None, tag=None, sort="name", limit=50, offset=0) is None
    )


def test_the_shortcut_knows_the_current_schema() -> None:
    # A new migration must be checked against the shortcut's queries, then this constant bumped.
    assert fastpath.SCHEMA_REVISION == SCHEMA_HEAD
