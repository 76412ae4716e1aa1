"""The outbox relay: publishes stored events to Kafka, in order, whenever Kafka is up.

Checkout never waits for Kafka: it commits the sale and its event to MySQL and wakes
the relay. The relay sends pending events in id order with an idempotent producer,
then marks them published. If Kafka is down it retries with back-off (0.5 s doubling
to 10 s). A crash between sending and marking sends an event again; the stream job
applies each event id once, so that costs nothing. Every app process runs a relay; a
MySQL named lock lets one publish at a time, so several processes keep the order too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from pos_app.db.tables import outbox
from pos_app.events.outbox import PRUNE_BATCH, prune_published
from pos_app.events.topics import ensure_topics
from pos_app.settings import Settings

log = logging.getLogger("pos.relay")
BATCH = 500
PRUNE_EVERY_SECONDS = 60.0
PRUNE_BATCHES_PER_PASS = 20  # up to 10,000 rows a pass; the next pass takes the rest
SEND_TIMEOUT = 15.0
BUSY_RETRY_SECONDS = 0.05
LINGER_SECONDS = 0.01


class OutboxRelay:
    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.lock_name = f"pos-outbox-relay:{settings.mysql_database}"
        self.producer: AIOKafkaProducer | None = None
        self.connected = False
        self.last_error: str | None = None
        self._wake = asyncio.Event()
        self._next_prune = 0.0  # monotonic time of the next prune pass
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._close_producer()

    def wake(self) -> None:
        self._wake.set()

    async def ping(self) -> None:
        """Raises unless the producer is connected and the topic's metadata answers."""
        if self.producer is None or not self.connected:
            raise ConnectionError(self.last_error or "not connected to Kafka yet")
        # A metadata round trip: the cached topic metadata would answer with Kafka dead.
        await asyncio.wait_for(self.producer.client.fetch_all_metadata(), 3)

    async def _run(self) -> None:
        delay = 0.5
        while True:
            try:
                sent = await self._publish_pending()
                delay = 0.5
                if sent == BATCH:
                    continue  # more waiting: no pause
                await self._prune_if_due()
                if sent is None:  # another worker's relay is publishing; ours may be next
                    await asyncio.sleep(BUSY_RETRY_SECONDS)
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=1.0)
                # A busy counter wakes us once per sale: linger a moment, so one cycle
                # (a handful of MySQL round trips and one Kafka produce) carries several.
                await asyncio.sleep(LINGER_SECONDS)
                self._wake.clear()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # Kafka or MySQL away: keep the events, try later
                self.last_error = f"{error.__class__.__name__}: {error}"[:255]
                log.warning("outbox relay: %s; retrying in %.1f s", self.last_error, delay)
                await self._close_producer()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def _prune_if_due(self) -> None:
        """Once a minute, when nothing waits to be sent: delete published rows older than
        the retention, a small batch per transaction."""
        if time.monotonic() < self._next_prune:
            return
        self._next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
        pruned = await self.prune()
        if pruned:
            log.info("outbox relay: pruned %d published events", pruned)

    async def prune(self) -> int:
        """Delete published rows older than the retention (`outbox_retention_hours`)."""
        total = 0
        for _ in range(PRUNE_BATCHES_PER_PASS):
            async with self.engine.begin() as conn:
                gone = await prune_published(
                    conn, retention_hours=self.settings.outbox_retention_hours
                )
            total += gone
            if gone < PRUNE_BATCH:
                break
        return total

    async def _producer(self) -> AIOKafkaProducer:
        if self.producer is None:
            producer = AIOKafkaProducer(
                bootstrap_servers=self.settings.kafka_bootstrap_servers,
                # acks=all: a send is acknowledged once min.insync.replicas brokers have it,
                # so losing a broker loses no published sale; idempotence: retries after a
                # leader change cannot duplicate or reorder.
                acks="all",
                enable_idempotence=True,
                linger_ms=2,
                request_timeout_ms=5000,
            )
            try:
                await producer.start()
                await ensure_topics(self.settings, timeout=5)
            except BaseException:
                await producer.stop()
                raise
            self.producer, self.connected, self.last_error = producer, True, None
        return self.producer

    async def _close_producer(self) -> None:
        producer, self.producer, self.connected = self.producer, None, False
        if producer is not None:
            with contextlib.suppress(Exception):
                await producer.stop()

    async def _publish_pending(self) -> int | None:
        """Publish up to BATCH pending events; None if another relay holds the lock."""
        producer = await self._producer()  # connect first, so /health can tell at once
        async with self.engine.connect() as conn:
            # With several app workers, each runs a relay; the named lock lets one publish
            # at a time, so events leave in id order and none is sent twice.
            if not await conn.scalar(select(func.get_lock(self.lock_name, 0))):
                return None
            try:
                return await self._publish_locked(conn, producer)
            finally:
                await conn.execute(select(func.release_lock(self.lock_name)))

    async def _publish_locked(self, conn: AsyncConnection, producer: AIOKafkaProducer) -> int:
        # One transaction: read the batch (after taking the lock, so it sees what the last
        # holder marked), send it, mark it.
        rows = (
            await conn.execute(
                select(outbox.c.id, outbox.c.topic, outbox.c.event_key, outbox.c.payload)
                .where(outbox.c.published_at.is_(None))
                .order_by(outbox.c.id)
                .limit(BATCH)
            )
        ).all()
        if not rows:
            return 0
        ids = [row.id for row in rows]
        try:
            sends = [
                await producer.send(
                    row.topic, value=row.payload.encode(), key=row.event_key.encode()
                )
                for row in rows
            ]
            await asyncio.wait_for(asyncio.gather(*sends), SEND_TIMEOUT)
        except Exception as error:
            await self._record_failure(conn, ids, error)
            raise
        await conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(ids))
            .values(published_at=text("CURRENT_TIMESTAMP(3)"))
        )
        await conn.commit()
        return len(rows)

    async def _record_failure(
        self, conn: AsyncConnection, ids: list[int], error: Exception
    ) -> None:
        with contextlib.suppress(DBAPIError):
            await conn.execute(
                update(outbox)
                .where(outbox.c.id.in_(ids))
                .values(
                    attempts=outbox.c.attempts + 1,
                    last_error=f"{error.__class__.__name__}: {error}"[:255],
                )
            )
            await conn.commit()
