"""One unit of work: a transaction that commits when the work is done, rolls back if it
raises, and then does what had to wait for the commit.

Routes get it through `pos_app.deps.TransactionDep`; services take its connection and
never commit. Two things belong to the unit of work rather than to a statement:
- named locks (MySQL GET_LOCK) belong to the database session, not the transaction:
  released before the commit, one would let another request read the state the commit
  is about to change, so `hold_named_lock` keeps it until the transaction has ended;
- a wake-up of the outbox relay must come after the commit, or the relay finds nothing
  new and sleeps: `after_commit` runs it then (and not at all after a rollback).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from weakref import WeakKeyDictionary

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


@dataclass
class _Pending:
    """What waits for the end of one unit of work. Kept beside the connection, not in its
    info dict: reading that of a connection the server dropped tries to reconnect."""

    locks: set[str] = field(default_factory=set)
    after_commit: list[Callable[[], None]] = field(default_factory=list)


_PENDING: WeakKeyDictionary[AsyncConnection, _Pending] = WeakKeyDictionary()


@asynccontextmanager
async def unit_of_work(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as conn:
        pending = _PENDING.setdefault(conn, _Pending())
        committed = False
        try:
            async with conn.begin():
                yield conn
            committed = True
        finally:
            del _PENDING[conn]
            # A session the server dropped took its locks with it.
            if not conn.invalidated:
                for name in sorted(pending.locks):
                    await conn.execute(select(func.release_lock(name)))
        if committed:
            for callback in pending.after_commit:
                callback()


async def hold_named_lock(conn: AsyncConnection, name: str, *, timeout_seconds: int) -> bool:
    """Take the lock, waiting up to `timeout_seconds`, until the unit of work ends; False
    if another session holds it that long."""
    if not await conn.scalar(select(func.get_lock(name, timeout_seconds))):
        return False
    _PENDING.setdefault(conn, _Pending()).locks.add(name)
    return True


def after_commit(conn: AsyncConnection, callback: Callable[[], None]) -> None:
    """Call `callback` once this unit of work has committed."""
    _PENDING.setdefault(conn, _Pending()).after_commit.append(callback)
