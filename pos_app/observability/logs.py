"""Structured logs: one JSON object a line, on stderr, for the app and the stream job.

Each line has `time` (UTC, RFC 3339), `level`, `logger` and `message`, the fields a call
passes in `extra=`, and the `request_id` of the request being served, if any. The id
comes from the client's X-Request-ID (when it is a sane token) or is made here; the
response echoes it, the events the request puts in the outbox carry it (`request_id`),
and the stream job logs the ids of each batch it applies, so one sale can be followed
from the request to its micro-batch."""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

from pos_app.request_context import current_request_id

REQUEST_ID_HEADER = "X-Request-ID"
# A client's id is logged as it came, so only plain tokens are taken (no line breaks or
# quotes to forge a log line with); anything else gets an id of our own.
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

# The attributes every LogRecord has; anything else on a record came from `extra=`.
_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def request_id_for(incoming: str | None) -> str:
    if incoming and _SANE_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = current_request_id()
        if request_id is not None:
            entry["request_id"] = request_id
        entry.update((k, v) for k, v in vars(record).items() if k not in _RECORD_FIELDS)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(level: str = "INFO") -> None:
    """JSON lines on stderr for everything that logs through `logging` in this process."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("py4j").setLevel(logging.WARNING)  # Spark's bridge chats at INFO


def uvicorn_log_config(level: str = "INFO") -> dict[str, Any]:
    """uvicorn's loggers as JSON lines too. Its access log is off: the request middleware
    logs each request once, with its route, duration and request id."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "uvicorn": {"level": level},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"level": "WARNING", "propagate": False},
        },
    }
