"""The id of the request being served, for whatever runs on its behalf: the log lines
(pos_app/observability/logs.py) and the events it puts in the outbox (`request_id`).
Set once per request by the request middleware; None outside a request."""

from __future__ import annotations

from contextvars import ContextVar, Token

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


def bind_request_id(request_id: str | None) -> Token[str | None]:
    """Set the id for this task (and the tasks and threads it starts); returns the token
    that resets it."""
    return _request_id.set(request_id)


def reset_request_id(token: Token[str | None]) -> None:
    _request_id.reset(token)
