"""Fixtures of the concurrency tests: every enabled SQL backend, and one pool of worker processes.

The pool is spawned once per session: starting a Python process that imports modelplane costs
about a second here, which would otherwise dominate every test.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest

from tests.concurrency.workers import WORKERS
from tests.store.backends import enabled_backends


@pytest.fixture(params=enabled_backends(sql_only=True))
def sql_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def processes() -> Iterator[tuple[ProcessPoolExecutor, Any]]:
    """(pool of WORKERS spawned processes, a multiprocessing manager for barriers)."""
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, ProcessPoolExecutor(WORKERS, mp_context=context) as pool:
        yield pool, manager
