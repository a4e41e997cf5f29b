"""A write against a SQLite store whose lock another process holds fails after about the busy
timeout (``MODELPLANE_BUSY_TIMEOUT``) with a clear error, not after ten times that."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from modelplane.errors import ConfigError, StoreError
from modelplane.metadata.local_store import LocalStore
from modelplane.metadata.sql.store import SqlMetadataStore

# Generous: the busy timeout below is 0.5 s; before the fix a write retried the 30 s timeout ten
# times, and with this setting unread it waited 30 s at least.
UPPER_BOUND_S = 15


@pytest.mark.parametrize("kind", ["sql", "local"])
def test_a_write_against_a_held_lock_fails_after_about_the_busy_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """The local store's own write waits briefly, then hands the call to the SQL store, which
    waits out the busy timeout and says why: one wait, one error, whichever store is used."""
    monkeypatch.setenv("MODELPLANE_BUSY_TIMEOUT", "0.5")
    path = tmp_path / "store.db"
    opener = LocalStore if kind == "local" else SqlMetadataStore
    store = opener(f"sqlite:///{path}")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process's write lock
    outcome: list[BaseException | object] = []

    def write() -> None:
        try:
            outcome.append(store.save_pipeline("train", {}))
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome.append(exc)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    writer.join(UPPER_BOUND_S)
    finished_in_time = not writer.is_alive()
    holder.execute("ROLLBACK")
    holder.close()
    writer.join()
    written = store.list_pipelines().total
    store.close()

    assert finished_in_time, f"the write still waited after {UPPER_BOUND_S} s"
    assert len(outcome) == 1 and isinstance(outcome[0], StoreError), outcome
    text = str(outcome[0])
    assert "stayed busy" in text and "database is locked" in text
    assert "MODELPLANE_BUSY_TIMEOUT" in text
    assert written == 0


@pytest.mark.parametrize("raw", ["soon", "0", "-3"])
def test_a_busy_timeout_that_is_not_seconds_is_refused_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv("MODELPLANE_BUSY_TIMEOUT", raw)

    with pytest.raises(ConfigError, match="MODELPLANE_BUSY_TIMEOUT"):
        SqlMetadataStore(f"sqlite:///{tmp_path / 'store.db'}")
