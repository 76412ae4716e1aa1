"""Database engines: async (asyncmy) for the app, sync (PyMySQL) for the CLI and jobs."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import PoolResetState

from pos_app.settings import Settings

# A pooled connection idle this long is pinged before use. A MariaDB restart takes longer
# than this, so a connection that went stale in one is always pinged; one handed back a
# moment ago, as at a busy counter, is not (a ping is a round trip per request).
PING_AFTER_IDLE_SECONDS = 1.0
POOL_WAIT_SECONDS = 5.0


def make_async_engine(settings: Settings) -> AsyncEngine:
    engine = create_async_engine(
        settings.mysql_url("asyncmy"),
        pool_recycle=1800,
        pool_size=10,
        # Overloaded (every connection busy), a request waits this long for one and then
        # gets a 503 with Retry-After, rather than holding the cashier for the default 30 s.
        pool_timeout=POOL_WAIT_SECONDS,
        pool_reset_on_return=None,  # see _rollback_if_open
    )
    pool = engine.sync_engine.pool
    event.listen(pool, "checkin", _note_idle_since)
    event.listen(pool, "checkout", _ping_if_idle)
    event.listen(pool, "reset", _rollback_if_open)
    return engine


def _note_idle_since(_dbapi_connection: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    idle_since = record.info.get("idle_since")  # None: connected just now, no need
    if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
        return
    try:
        dbapi_connection.ping(False)
    except Exception as error:
        # The pool discards this connection and checks out another (a new one if need be).
        raise exc.DisconnectionError(str(error)) from error


def _rollback_if_open(dbapi_connection: Any, _record: Any, state: PoolResetState) -> None:
    """Reset a connection the pool takes back, only if a transaction is still open.

    The pool's default sends ROLLBACK on every return, even right after a COMMIT: a round
    trip per request for nothing. The server says in every reply whether a transaction is
    open, and asyncmy keeps that status."""
    if state.terminate_only or not state.asyncio_safe:
        return  # the connection is closed, not pooled; no IO outside the event loop
    if dbapi_connection.driver_connection.get_transaction_status():
        dbapi_connection.rollback()


def make_sync_engine(settings: Settings) -> Engine:
    return create_engine(settings.mysql_url("pymysql"), pool_pre_ping=True, pool_recycle=1800)
