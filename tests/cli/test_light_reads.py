"""Everyday reads on a local SQLite store answer through the light reader (no SQLAlchemy, no
pydantic) and print exactly what the full store prints."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys

import pytest

from modelplane.client import Client
from modelplane.config import load_settings
from modelplane.metadata import light
from modelplane.metadata.sql.engine import SCHEMA_HEAD
from tests.cli.conftest import Cli

CASES = [
    ("model", "list"),
    ("model", "list", "--name", "IRIS"),
    ("model", "list", "--name", "_"),  # a LIKE wildcard, matched literally
    ("model", "list", "--name", "a%b"),
    ("model", "list", "--tag", "demo"),
    ("model", "list", "--sort", "-created", "--limit", "2", "--page", "2"),
    ("model", "list", "--page", "9"),
    ("model", "describe", "iris"),
    ("model", "describe", "empty"),
    ("model", "version", "list", "iris"),
    ("model", "version", "list", "iris", "--stage", "production"),
    ("model", "version", "list", "iris", "--stage", "latest"),
    ("model", "version", "list", "iris", "--stage", "Archived"),
    ("model", "version", "list", "iris", "--tag", "new", "--limit", "1"),
    ("model", "version", "list", "iris", "--limit", "2", "--page", "2"),
    ("model", "version", "list", "empty"),
    ("model", "version", "describe", "iris", "production"),
    ("model", "version", "describe", "iris", "latest"),
    ("model", "version", "describe", "iris", "2"),
    ("model", "version", "describe", "iris", "candidate"),
    ("run", "list"),
    ("run", "list", "--pipeline", "train"),
    ("run", "list", "--model", "iris", "--status", "completed"),
    ("run", "list", "--status", "failed"),
    ("artifact", "list"),
    ("artifact", "list", "--name", "DATA"),
    ("artifact", "version", "list", "dataset"),
    ("pipeline", "list"),
    ("pipeline", "list", "--name", "tra"),
    ("status",),
]
# Names that match nothing: the light reader steps aside and the full store words the error.
MISSES = [
    ("model", "describe", "nope"),
    ("model", "version", "list", "nope"),
    ("model", "version", "describe", "iris", "staging-ish"),
    ("model", "version", "describe", "iris", "99"),
    ("run", "list", "--pipeline", "nope"),
    ("run", "list", "--model", "nope"),
    ("artifact", "version", "list", "nope"),
]
OFF = {"MODELPLANE_LIGHT_READS": "0"}


@pytest.fixture
def varied(trained: Client) -> Client:
    trained.create_model("iris_2", tags=["demo", "x"])
    trained.create_model("a%b")
    trained.create_model("empty")
    trained.add_metadata(
        "model_version",
        trained.get_model_version("iris", 2).id,
        {"accuracy": 0.9, "nested": {"k": [1]}},
    )
    return trained


@pytest.mark.parametrize("args", CASES, ids=[" ".join(c) for c in CASES])
@pytest.mark.parametrize("fmt", ["json", "table"])
def test_light_and_full_reads_print_the_same(
    cli: Cli, varied: Client, args: tuple[str, ...], fmt: str
) -> None:
    lit = cli(*args, "-o", fmt)
    full = cli(*args, "-o", fmt, env=OFF)
    assert lit.exit_code == full.exit_code == 0, lit.stderr + full.stderr
    assert lit.stdout == full.stdout
    assert lit.stdout.strip()


@pytest.mark.parametrize("args", MISSES, ids=[" ".join(c) for c in MISSES])
def test_a_miss_gets_the_full_stores_error(cli: Cli, varied: Client, args: tuple[str, ...]) -> None:
    lit = cli(*args)
    full = cli(*args, env=OFF)
    assert lit.exit_code == full.exit_code == 1
    assert lit.stderr == full.stderr
    assert "does not exist" in lit.stderr or "No version" in lit.stderr or "has no" in lit.stderr


def test_bad_paging_is_refused_alike(cli: Cli, varied: Client) -> None:
    lit = cli("model", "list", "--limit", "5000")
    full = cli("model", "list", "--limit", "5000", env=OFF)
    assert lit.exit_code == full.exit_code != 0
    assert lit.stderr == full.stderr


def test_reads_do_not_import_sqlalchemy_or_pydantic(varied: Client) -> None:
    """The point of the light reader: the common reads of a local store stay light."""
    probe = (
        "import sys\n"
        "from modelplane.cli import main\n"
        "for args in (['model', 'version', 'describe', 'iris', 'production'],\n"
        "             ['model', 'describe', 'iris'], ['run', 'list'], ['status'],\n"
        "             ['artifact', 'version', 'list', 'dataset'], ['pipeline', 'list']):\n"
        "    try:\n"
        "        main(args + ['-o', 'json'], standalone_mode=False)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "    print(args, sorted(m for m in ('sqlalchemy',) if m in sys.modules), file=sys.stderr)\n"
        "heavy = sorted(m for m in ('sqlalchemy', 'pydantic', 'modelplane.client') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=dict(os.environ)
    )
    assert found.returncode == 0, found.stderr
    assert "HEAVY []" in found.stdout, found.stderr


def test_the_light_reader_steps_aside_for_what_it_cannot_read(
    varied: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings()
    reader = light.open_reader(settings.store_url)
    assert reader is not None
    assert reader.call("list_models")["total"] == 4
    with pytest.raises(light.Unavailable):
        reader.call("get_model", "nope")
    reader.close()
    # a store that does not exist yet: the client creates it; this reader never writes
    missing = f"sqlite:///{settings.home}/missing.db"
    assert light.open_reader(missing) is None
    assert not (settings.home / "missing.db").exists()
    # other databases and URLs SQLAlchemy must parse
    assert light.open_reader("postgresql://localhost/test") is None
    assert light.open_reader("sqlite:///:memory:") is None
    # another schema revision
    db = str(settings.home / "store.db")
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("UPDATE alembic_version SET version_num = 'zzzz_future'")
    assert light.open_reader(settings.store_url) is None
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", [SCHEMA_HEAD])
    # switched off
    monkeypatch.setenv("MODELPLANE_LIGHT_READS", "0")
    assert light.open_reader(settings.store_url) is None


def test_the_shipped_catalogue_is_what_the_declared_queries_compile_to() -> None:
    # Regenerate with: python -m modelplane.metadata.sql.catalogue
    from modelplane.metadata.sql.catalogue import CATALOGUE_PATH, catalogue_text

    assert CATALOGUE_PATH.read_text(encoding="utf-8") == catalogue_text()
    assert '"schema_revision": "' + SCHEMA_HEAD + '"' in catalogue_text()
