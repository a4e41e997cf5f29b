"""Records the step calls made inside a pipeline body into a ``Graph``."""

from __future__ import annotations

import contextlib
import contextvars
import itertools
from typing import Iterator

from modelplane.dag.graph import Graph

__all__ = ["active_graph", "tracing"]

_ACTIVE: contextvars.ContextVar[tuple[Graph, int] | None] = contextvars.ContextVar("modelplane_graph", default=None)
_tokens = itertools.count(1)


def active_graph() -> tuple[Graph, int] | None:
    """The graph being traced right now and its token, or ``None`` outside a pipeline body."""
    return _ACTIVE.get()


@contextlib.contextmanager
def tracing() -> Iterator[tuple[Graph, int]]:
    graph = Graph()
    token_value = next(_tokens)
    token = _ACTIVE.set((graph, token_value))
    try:
        yield graph, token_value
    finally:
        _ACTIVE.reset(token)
