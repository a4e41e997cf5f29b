"""Many processes against one store at once: DESIGN §3 rules 1 and 2 must hold, with no errors."""

from __future__ import annotations

import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from modelplane.enums import ModelStages
from modelplane.metadata.sql.engine import SCHEMA_HEAD
from modelplane.metadata.sql.store import SqlMetadataStore
from tests.concurrency.workers import (
    WORKERS,
    create_versions,
    open_fresh_store,
    race_for_production,
    run_workers,
)
from tests.store.backends import sql_url

pytestmark = pytest.mark.slow

PROCESSES = WORKERS
VERSIONS_EACH = 25


def test_concurrent_creators_get_distinct_gapless_numbers(
    sql_backend: str, tmp_path: Path, processes: tuple[ProcessPoolExecutor, Any]
) -> None:
    url = sql_url(sql_backend, tmp_path)
    model = f"race-{uuid.uuid4().hex[:8]}"
    store = SqlMetadataStore(url)
    store.create_model(model)

    reports = run_workers(*processes, create_versions, [(url, model, VERSIONS_EACH)] * PROCESSES)

    total = PROCESSES * VERSIONS_EACH
    model_numbers = sorted(n for versions, _ in reports for n in versions)
    artifact_numbers = sorted(n for _, artifacts in reports for n in artifacts)
    assert model_numbers == list(range(1, total + 1))
    assert artifact_numbers == list(range(1, total + 1))
    for versions, artifacts in reports:
        assert versions == sorted(versions) and artifacts == sorted(artifacts)
    stored = store.list_model_versions(model, sort="number", limit=1000).items
    assert [v.number for v in stored] == list(range(1, total + 1))
    assert [v.name for v in stored] == [str(n) for n in range(1, total + 1)]
    assert store.get_model(model).latest_version_number == total
    store.close()


def _replay_history(store: SqlMetadataStore, model: str) -> dict[int, str]:
    """Replay the stage history in order, checking each row against the state it claims to leave."""
    changes = list(reversed(store.list_stage_changes(model, limit=1000).items))
    state = {v.number: ModelStages.NONE.value for v in store.list_model_versions(model).items}
    for change in changes:
        assert state[change.version_number] == change.from_stage.value, change
        state[change.version_number] = change.to_stage.value
        holders = [n for n, stage in state.items() if stage == ModelStages.PRODUCTION.value]
        assert len(holders) <= 1, f"two production holders after change {change.id}: {holders}"
    return state


@pytest.mark.parametrize("mode", ["force", "polite", "cas"])
def test_racing_promotions_leave_one_holder_and_a_consistent_history(
    sql_backend: str, tmp_path: Path, mode: str, processes: tuple[ProcessPoolExecutor, Any]
) -> None:
    url = sql_url(sql_backend, tmp_path)
    model = f"stage-{uuid.uuid4().hex[:8]}"
    store = SqlMetadataStore(url)
    store.create_model(model)
    store.create_model_version(model)
    store.create_model_version(model)

    reports = run_workers(
        *processes, race_for_production, [(url, model, 1, 30, mode), (url, model, 2, 30, mode)]
    )

    actual = {v.number: v.stage.value for v in store.list_model_versions(model).items}
    assert list(actual.values()).count(ModelStages.PRODUCTION.value) == 1
    assert _replay_history(store, model) == actual
    if mode == "force":
        assert all(refused == 0 for _, refused in reports)
    assert sum(won for won, _ in reports) >= 1
    store.close()


def test_processes_opening_a_fresh_database_at_once_all_succeed(
    sql_backend: str, tmp_path: Path, processes: tuple[ProcessPoolExecutor, Any]
) -> None:
    url = sql_url(sql_backend, tmp_path, fresh=True)

    numbers = run_workers(*processes, open_fresh_store, [(url,)] * 4)

    assert sorted(numbers) == [1, 2, 3, 4]
    store = SqlMetadataStore(url)
    assert store.info().schema_revision == SCHEMA_HEAD
    store.close()
