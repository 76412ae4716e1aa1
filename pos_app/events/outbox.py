"""The outbox: events stored in MySQL with the sale, published later by the relay."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.db.tables import outbox
from pos_app.events.inventory import StockAdjusted, StockReceived
from pos_app.events.returns import SaleReturned
from pos_app.events.schemas import SaleCompleted

OutboxEvent = SaleCompleted | SaleReturned | StockReceived | StockAdjusted


class OutboxStatus(BaseModel):
    pending: int
    oldest_pending_age_seconds: float | None


_INSERT = insert(outbox)  # built once: it runs with every sale


async def enqueue(conn: AsyncConnection, event: OutboxEvent, *, topic: str) -> None:
    """Add the event in the caller's transaction: it is published iff that commits."""
    key, value = event.to_kafka()
    await conn.execute(
        _INSERT,
        {
            "event_id": event.event_id,
            "topic": topic,
            "event_key": key.decode(),
            "payload": value.decode(),
        },
    )


async def status(conn: AsyncConnection) -> OutboxStatus:
    # The age is computed by the database, on the clock that stamped created_at.
    oldest_age = func.timestampdiff(
        text("MICROSECOND"), func.min(outbox.c.created_at), text("CURRENT_TIMESTAMP(3)")
    )
    row: Any = (
        await conn.execute(select(func.count(), oldest_age).where(outbox.c.published_at.is_(None)))
    ).one()
    pending, age_us = row
    age = int(age_us) / 1e6 if age_us is not None else None
    return OutboxStatus(pending=int(pending), oldest_pending_age_seconds=age)
