"""``once``: the SQL store runs a keyed write at most once and answers a repeat from its record.

Not part of the ``MetadataStore`` protocol (the server calls it for a write that carries an
``Idempotency-Key``; ``tests/server/test_idempotency.py`` and ``test_restart.py`` drive it over
HTTP). Here, on every SQL backend: the record is made in the write's own transaction, is the
caller's, refuses a key reused for another call, and expires.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

import pytest
import sqlalchemy as sa

from modelplane.errors import InvalidInputError, NotFoundError
from modelplane.metadata.idempotency import KEY_LIFETIME, Answer, request_digest
from modelplane.metadata.sql.engine import make_engine
from modelplane.metadata.sql.store import SqlMetadataStore
from modelplane.metadata.sql.tables import idempotency_keys
from modelplane.metadata.store import MetadataStore

CREATE = "create_model_version"
DIGEST = request_digest(CREATE, {"model": "iris"})


def new_version(store: Any, calls: list[int] | None = None) -> Callable[[], Answer]:
    """What the server's route does for ``create_model_version("iris")``: the write, its answer."""

    def work() -> Answer:
        if calls is not None:
            calls.append(1)
        version = store.create_model_version("iris")
        return Answer(200, version.model_dump_json().encode())

    return work


@pytest.fixture
def iris(sql_store: MetadataStore) -> SqlMetadataStore:
    sql_store.create_model("iris")
    assert isinstance(sql_store, SqlMetadataStore)
    return sql_store


def test_a_repeated_key_records_once_and_answers_the_same(iris: SqlMetadataStore) -> None:
    calls: list[int] = []

    first = iris.once("key-1", "ana", CREATE, DIGEST, new_version(iris, calls))
    again = iris.once("key-1", "ana", CREATE, DIGEST, new_version(iris, calls))

    assert again == first
    assert first.status == 200 and b'"number":1' in first.body
    assert len(calls) == 1
    assert iris.list_model_versions("iris").total == 1


def test_another_key_is_another_call(iris: SqlMetadataStore) -> None:
    first = iris.once("key-1", "ana", CREATE, DIGEST, new_version(iris))
    second = iris.once("key-2", "ana", CREATE, DIGEST, new_version(iris))

    assert first != second
    assert iris.list_model_versions("iris").total == 2


def test_a_key_is_its_owners(iris: SqlMetadataStore) -> None:
    iris.once("shared", "ana", CREATE, DIGEST, new_version(iris))
    iris.once("shared", "bo", CREATE, DIGEST, new_version(iris))

    assert iris.list_model_versions("iris").total == 2


@pytest.mark.parametrize(
    ("operation", "digest", "named"),
    [
        (
            CREATE,
            request_digest(CREATE, {"model": "iris", "tags": ["x"]}),
            "create_model_version call with other arguments",
        ),
        ("delete_model", DIGEST, "create_model_version, not delete_model"),
    ],
    ids=["other-arguments", "other-operation"],
)
def test_a_key_reused_for_another_call_is_refused(
    iris: SqlMetadataStore, operation: str, digest: str, named: str
) -> None:
    iris.once("key-1", "ana", CREATE, DIGEST, new_version(iris))
    calls: list[int] = []

    with pytest.raises(InvalidInputError, match="key-1") as refused:
        iris.once("key-1", "ana", operation, digest, new_version(iris, calls))

    assert named in refused.value.message
    assert "new key" in (refused.value.hint or "")
    assert calls == []
    assert iris.list_model_versions("iris").total == 1


def test_a_failed_write_records_nothing_and_its_retry_runs(iris: SqlMetadataStore) -> None:
    def fails() -> Answer:
        iris.create_model_version("iris")
        iris.get_model("no-such-model")  # raises: the version above rolls back, and the key
        raise AssertionError("unreachable")

    with pytest.raises(NotFoundError):
        iris.once("key-1", "ana", CREATE, DIGEST, fails)
    assert iris.list_model_versions("iris").total == 0

    answer = iris.once("key-1", "ana", CREATE, DIGEST, new_version(iris))
    assert b'"number":1' in answer.body
    assert iris.list_model_versions("iris").total == 1


def test_the_key_and_the_write_commit_together(iris: SqlMetadataStore) -> None:
    """Every store call the work makes joins the key's transaction (two writes here)."""

    def two_writes() -> Answer:
        iris.create_model("second")
        iris.create_model_version("second")
        return Answer(204, b"")

    iris.once("key-1", "ana", "two", DIGEST, two_writes)
    replayed = iris.once("key-1", "ana", "two", DIGEST, two_writes)

    assert replayed == Answer(204, b"")
    assert iris.list_model_versions("second").total == 1


def test_a_bad_key_is_refused(iris: SqlMetadataStore) -> None:
    with pytest.raises(InvalidInputError, match="Idempotency-Key"):
        iris.once("has space", "ana", CREATE, DIGEST, new_version(iris))
    with pytest.raises(InvalidInputError, match="Idempotency-Key"):
        iris.once("k" * 129, "ana", CREATE, DIGEST, new_version(iris))
    assert iris.list_model_versions("iris").total == 0


def test_the_same_key_at_once_from_two_threads_records_once(iris: SqlMetadataStore) -> None:
    """A client that gave up waiting and retried while the first request still ran."""
    start = threading.Barrier(2)
    answers: list[Answer] = []
    errors: list[BaseException] = []

    def send() -> None:
        start.wait()
        try:
            answers.append(iris.once("key-1", "ana", CREATE, DIGEST, new_version(iris)))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(answers) == 2 and answers[0] == answers[1]
    assert iris.list_model_versions("iris").total == 1


def _keys(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return sorted(conn.execute(sa.select(idempotency_keys.c.request_key)).scalars())
    finally:
        engine.dispose()


def test_a_key_expires_and_old_keys_are_deleted(iris: SqlMetadataStore) -> None:
    iris.once("old", "ana", CREATE, DIGEST, new_version(iris))
    iris.once("older", "ana", CREATE, DIGEST, new_version(iris))
    later = datetime.now(timezone.utc) + KEY_LIFETIME + timedelta(minutes=1)
    clocked = SqlMetadataStore(iris.url, clock=lambda: later)
    try:
        # A day on, the key names a new call (a different one is no longer refused), and the
        # first keyed write of the store deletes the expired keys.
        answer = clocked.once("old", "ana", "other", "digest", new_version(clocked))
    finally:
        clocked.close()

    assert b'"number":3' in answer.body
    assert iris.list_model_versions("iris").total == 3
    assert _keys(iris.url) == ["old"]
