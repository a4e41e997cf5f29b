"""Writes that a retry cannot record twice: the ``Idempotency-Key`` both sides of the wire share.

The HTTP store sends every write with a key, a fresh one per call and the same on each retry of
that call (``http_transport.py``). The server hands a keyed write to its store's ``once``
(``WritesOnce``), which records the key with the answer **in the transaction of the write**: a
retry of a call that committed, even one whose server was killed before it answered, gets the
stored answer back instead of running again. A key is the caller's: it is kept per token owner,
and for ``KEY_LIFETIME``. Every answer of a store operation's route carries ``HONOURED_HEADER``:
a client sends a write again after it may have arrived only to a server that said so, never to an
older one that would run it twice.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable, Protocol

from modelplane.errors import InvalidInputError

__all__ = [
    "HONOURED_HEADER",
    "IDEMPOTENCY_HEADER",
    "KEY_LIFETIME",
    "Answer",
    "WritesOnce",
    "check_key",
    "request_digest",
]

IDEMPOTENCY_HEADER = "Idempotency-Key"
HONOURED_HEADER = "Modelplane-Idempotency-Keys"  # value: "honoured"
# Long enough for any retry (the HTTP store gives up after minutes), short enough to stay small.
KEY_LIFETIME = timedelta(hours=24)
_KEY = re.compile(r"[A-Za-z0-9._:-]{1,128}")


@dataclass(frozen=True)
class Answer:
    """What the server answered a write: the status and the body (JSON, or empty for 204)."""

    status: int
    body: bytes


class WritesOnce(Protocol):
    """A store that runs a keyed write at most once (the SQL store)."""

    def once(
        self, key: str, owner: str, operation: str, digest: str, work: Callable[[], Answer]
    ) -> Answer:
        """``work()``'s answer, from a transaction that also records it under ``(key, owner)``;
        or, when that key was recorded less than ``KEY_LIFETIME`` ago, the recorded answer,
        without calling ``work``. ``operation`` and ``digest`` (``request_digest``) tell a retry
        from another call that reuses the key, which is refused with ``InvalidInputError``. Every
        store call ``work`` makes joins that one transaction; an exception it raises rolls it all
        back, and nothing is recorded."""
        ...


def check_key(key: str) -> str:
    """``key`` if it can name a call: 1 to 128 letters, digits and ``.``, ``_``, ``:``, ``-``."""
    if not _KEY.fullmatch(key):
        shown = key if len(key) <= 40 else key[:37] + "..."
        raise InvalidInputError(
            f"The {IDEMPOTENCY_HEADER} header {shown!r} is not 1 to 128 letters, digits, '.', "
            "'_', ':' or '-'.",
            hint="Send a new uuid4 (hex) for each call, and the same one when retrying it.",
        )
    return key


def request_digest(operation: str, arguments: dict[str, Any]) -> str:
    """A fingerprint of one call (the operation and its arguments as JSON), to tell a retry from a
    different call under the same key."""
    text = json.dumps([operation, arguments], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()
