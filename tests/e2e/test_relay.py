"""The outbox relay with several app processes: one publishes at a time, each event once,
in outbox order (on the real MySQL and Kafka)."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from pos_app.db.engine import make_async_engine
from pos_app.db.tables import outbox
from pos_app.events.relay import OutboxRelay
from pos_app.events.topics import ensure_topics
from pos_app.sales.schemas import PaymentIn, SaleIn, SaleLineIn
from pos_app.sales.service import record_sale
from pos_app.settings import Settings
from tests.stack_support import scratch_shop

pytestmark = pytest.mark.stack

SALES = 12


@pytest.fixture(scope="module")
def relay_shop(settings: Settings) -> Settings:
    return scratch_shop(settings, "relay")


async def _pending(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        query = select(func.count()).where(outbox.c.published_at.is_(None))
        return int(await conn.scalar(query) or 0)


async def _published(settings: Settings, expected: int) -> list[tuple[int, str]]:
    """(partition, event id) of every record on the sales topic, in each partition's order."""
    consumer = AIOKafkaConsumer(
        settings.sales_topic,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    ids: list[tuple[int, str]] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        quiet_until = None  # once all are in, wait 3 s more: a duplicate would arrive then
        while loop.time() < min(deadline, quiet_until or deadline):
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                ids.extend((r.partition, json.loads(r.value)["event_id"]) for r in records)
            if len(ids) >= expected and quiet_until is None:
                quiet_until = loop.time() + 3
    finally:
        await consumer.stop()
    return ids


async def _relay_in_turn(settings: Settings) -> tuple[list[str], list[tuple[int, str]]]:
    await ensure_topics(settings, timeout=30)
    engine = make_async_engine(settings)
    first, second = OutboxRelay(engine, settings), OutboxRelay(engine, settings)
    try:
        recorded = []
        for number in range(SALES):
            async with engine.begin() as conn:
                sale = SaleIn(
                    lines=[SaleLineIn(sku="LGY-COT-NVY", quantity=1 + number % 2)],
                    payment=PaymentIn(method="card"),
                )
                done = await record_sale(conn, sale, settings=settings, client="relay-test")
                recorded.append(done.event.event_id)

        # While another process's relay holds the lock, this one publishes nothing.
        async with engine.connect() as other_process:
            assert await other_process.scalar(select(func.get_lock(first.lock_name, 0))) == 1
            assert await second._publish_pending() is None
            assert await _pending(engine) == SALES
            await other_process.scalar(select(func.release_lock(first.lock_name)))

        # Both running, both woken by every sale: each event still leaves once, in order.
        first.start()
        second.start()
        for _ in range(3):
            first.wake()
            second.wake()
            await asyncio.sleep(0.2)
        for _ in range(150):
            if await _pending(engine) == 0:
                break
            await asyncio.sleep(0.2)
        assert await _pending(engine) == 0
        return recorded, await _published(settings, SALES)
    finally:
        await first.stop()
        await second.stop()
        await engine.dispose()


def test_two_relays_publish_each_event_once_in_order(relay_shop: Settings) -> None:
    recorded, published = asyncio.run(_relay_in_turn(relay_shop))
    assert sorted(event for _, event in published) == sorted(recorded)  # each once
    position = {event: n for n, event in enumerate(recorded)}
    for partition in {p for p, _ in published}:
        order = [position[event] for p, event in published if p == partition]
        assert order == sorted(order), f"partition {partition} is out of outbox order"
