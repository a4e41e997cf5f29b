"""The server's log formats: uvicorn's plain text (the default), or one JSON object per line
(``modelplane server start --log-format json``) for log collectors.

A JSON line always has ``time`` (UTC, ISO 8601), ``level``, ``logger`` and ``message``; request
lines (``modelplane.server.access``) add ``method``, ``route``, ``path``, ``status``,
``duration_ms``, ``request_id``, ``user`` (the token's owner, when the request carried a valid
one) and ``client``; any other record made while a request was served carries its
``request_id``, and a record with a traceback carries it as ``exception``.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import datetime, timezone
from typing import Any

__all__ = ["LOG_FORMATS", "REQUEST_ID", "JsonFormatter", "json_line", "log_config"]

LOG_FORMATS = ("text", "json")
# The request being served, set by ``telemetry.RequestTelemetry`` for the records made meanwhile.
REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "modelplane_request_id", default=None
)
_REQUEST_FIELDS = (
    "method", "route", "path", "status", "duration_ms", "request_id", "user", "client",
)  # fmt: skip


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, timezone.utc)
        entry: dict[str, Any] = {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in _REQUEST_FIELDS:
            if name in record.__dict__:
                entry[name] = record.__dict__[name]
        if "request_id" not in entry:
            request_id = REQUEST_ID.get()
            if request_id is not None:
                entry["request_id"] = request_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def log_config(log_format: str, level: str = "info") -> dict[str, Any] | None:
    """uvicorn's ``log_config`` for ``log_format``: ``None`` keeps uvicorn's own text format;
    ``json`` sends uvicorn's and modelplane's records to stderr as JSON lines. uvicorn's access
    log is left without a handler: the request lines come from ``modelplane.server.access``."""
    if log_format == "text":
        return None
    shown = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": shown, "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "modelplane": {"handlers": ["stderr"], "level": shown, "propagate": False},
        },
    }


def json_line(
    message: str, *, level: int = logging.INFO, logger: str = "modelplane.server"
) -> None:
    """Write one JSON log line to stderr before logging is set up (the CLI's start messages)."""
    record = logging.LogRecord(logger, level, __file__, 0, message, None, None)
    sys.stderr.write(JsonFormatter().format(record) + "\n")
    sys.stderr.flush()
