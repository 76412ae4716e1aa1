"""One MySQL watcher per app process, shared by every open page.

It asks for the stream job's newest batch id and the newest alert acknowledgement, both
read off an index, every `live_watch_seconds`. The stream job writes its batch ledger in
the transaction that applies the batch (sales, stock, alerts), so a new id means every
store's figures may have moved; an acknowledgement is the only change to the alert strips
the stream job does not make. Subscribers wait on one shared `asyncio.Event`, replaced on
every change: N open pages cost one query loop, not N."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from pos_app.contract import STREAM_QUERY_NAME
from pos_app.db.tables import stock_alerts, stream_batches

log = logging.getLogger("pos.live")
MAX_RETRY_SECONDS = 10.0

NEWEST = select(
    select(func.max(stream_batches.c.batch_id))
    .where(stream_batches.c.query_name == STREAM_QUERY_NAME)
    .scalar_subquery(),
    select(func.max(stock_alerts.c.acknowledged_at)).scalar_subquery(),
)


class ChangeWatcher:
    def __init__(self, engine: AsyncEngine, *, interval: float) -> None:
        self.engine = engine
        self.interval = interval
        self.queries = 0  # questions asked of MySQL, however many pages listen
        self.changes = 0  # answers that differed from the one before
        self.closed = False
        self._newest: tuple[Any, ...] | None = None
        self._next = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="live-watcher")

    async def stop(self) -> None:
        """Ends the loop and wakes every subscriber, which then sees `closed`."""
        self.closed = True
        self._next.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def next_change(self) -> asyncio.Event:
        """The event set at the next change (or at shutdown). Take it before reading what
        it guards and wait on it after: a change in between has set it already."""
        return self._next

    async def _run(self) -> None:
        delay = self.interval
        while True:
            try:
                await self._look()
                delay = self.interval
            except asyncio.CancelledError:
                raise
            except Exception as error:  # MySQL away: the pages keep their fallback poll
                delay = min(max(delay * 2, 0.5), MAX_RETRY_SECONDS)
                log.warning("live watcher: %s; retrying in %.1f s", error, delay)
            await asyncio.sleep(delay)

    async def _look(self) -> None:
        async with self.engine.connect() as conn:
            newest = tuple((await conn.execute(NEWEST)).one())
        self.queries += 1
        if newest == self._newest:
            return
        first, self._newest = self._newest is None, newest
        if first:
            return  # the pages opened before this answer show it already
        self.changes += 1
        woken, self._next = self._next, asyncio.Event()
        woken.set()
