"""Put imported data into the system: products into the catalog, sales onto Kafka."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from decimal import Decimal

from aiokafka import AIOKafkaProducer

from pos_app.catalog.seed import CatalogRow, save_catalog
from pos_app.contract import SaleCompleted
from pos_app.events.topics import ensure_topics
from pos_app.imports.progress import Progress
from pos_app.settings import Settings

WINDOW = 2000  # events in flight before we wait for the broker's acknowledgements


def save_products(
    settings: Settings,
    found: dict[str, tuple[str, Decimal]],
    *,
    store_id: str,
    category: str,
    stock: dict[str, int],
) -> tuple[int, int]:
    rows = [
        CatalogRow(
            sku=sku,
            name=name,
            name_my=None,
            category=category,
            size=None,
            colour=None,
            unit_price=price,
            reorder_point=0,
            opening_stock=stock.get(sku, 0),
        )
        for sku, (name, price) in sorted(found.items())
    ]
    return save_catalog(settings, rows, store_id=store_id)


async def publish(
    settings: Settings, events: Sequence[SaleCompleted], *, rate: float | None
) -> float:
    """Send the events to the sales topic (acks=all, idempotent); seconds taken.
    rate: events per second, or None for as fast as the broker takes them."""
    records = [(settings.sales_topic, *event.to_kafka()) for event in events]
    return await publish_records(settings, records, rate=rate, unit="sales")


async def publish_records(
    settings: Settings,
    records: Sequence[tuple[str, bytes, bytes]],
    *,
    rate: float | None = None,
    unit: str = "events",
) -> float:
    """Send (topic, key, value) records in order with an idempotent producer, showing
    progress; seconds taken. rate: records per second, or None for full speed."""
    await ensure_topics(settings)
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        enable_idempotence=True,
        linger_ms=20,
        max_batch_size=256 * 1024,
    )
    await producer.start()
    progress = Progress(len(records), unit)
    started = time.monotonic()
    try:
        pending = []
        for number, (topic, key, value) in enumerate(records):
            if rate:
                await asyncio.sleep(max(0.0, started + number / rate - time.monotonic()))
            pending.append(await producer.send(topic, value=value, key=key))
            if len(pending) >= WINDOW or rate:
                await asyncio.gather(*pending)
                progress.advance(len(pending))
                pending = []
        await asyncio.gather(*pending)
        progress.advance(len(pending))
    finally:
        await producer.stop()
    return progress.finish()
