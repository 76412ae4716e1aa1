"""Sales documents as recorded, for receipts and returns.

The pipeline keeps each sale and each return from it in `sale_documents` (the read
model). A document it has not stored yet is in the outbox: unpublished, or published
within the retention window (`POS_OUTBOX_RETENTION_HOURS`), which is far longer than
the pipeline takes. So a receipt shows right after Pay, and an old sale still has its
receipt and its returns once the outbox has let go of it."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.contract import SALE_COMPLETED
from pos_app.db.tables import outbox, sale_documents
from pos_app.settings import Settings

RECENT_OUTBOX_ROWS = 2000  # today's sales at a small shop are far fewer


async def sale_events(
    conn: AsyncConnection, sale_id: str, *, settings: Settings
) -> list[dict[str, Any]]:
    """The sale's events as recorded, each once: the sale, then its returns in order."""
    stored = (
        await conn.execute(
            select(sale_documents.c.event_id, sale_documents.c.document)
            .where(sale_documents.c.sale_id == sale_id)
            .order_by(
                sale_documents.c.event_type,
                sale_documents.c.occurred_at,
                sale_documents.c.document_id,
            )
        )
    ).all()
    pending = (
        await conn.execute(
            select(outbox.c.event_id, outbox.c.payload)
            .where(outbox.c.topic == settings.sales_topic, outbox.c.event_key == sale_id)
            .order_by(outbox.c.id)
        )
    ).all()
    known = {row.event_id for row in stored}
    events = [json.loads(row.document) for row in stored]
    events += [json.loads(row.payload) for row in pending if row.event_id not in known]
    # The sale before its returns, whichever store answered for which.
    return sorted(events, key=lambda event: event.get("event_type") != SALE_COMPLETED)


async def recorded_sale(conn: AsyncConnection, sale_id: str, *, settings: Settings) -> str | None:
    """The sale's JSON as recorded: the read model's, else the outbox's."""
    document: str | None = await conn.scalar(
        select(sale_documents.c.document).where(
            sale_documents.c.event_type == SALE_COMPLETED, sale_documents.c.document_id == sale_id
        )
    )
    if document is not None:
        return document
    for payload in await conn.scalars(
        select(outbox.c.payload).where(
            outbox.c.topic == settings.sales_topic, outbox.c.event_key == sale_id
        )
    ):
        if json.loads(payload).get("event_type") == SALE_COMPLETED:
            return str(payload)
    return None


async def sales_of_day(conn: AsyncConnection, day: date, *, settings: Settings) -> list[str]:
    """The JSON of the store's sales on that (shop-local) day, newest first as far as
    each source goes: the read model's, then the outbox's recent ones it has not stored
    yet (the caller checks their store and day)."""
    stored = (
        await conn.execute(
            select(sale_documents.c.event_id, sale_documents.c.document)
            .where(
                sale_documents.c.store_id == settings.store_id,
                sale_documents.c.local_date == day,
                sale_documents.c.event_type == SALE_COMPLETED,
            )
            .order_by(sale_documents.c.occurred_at.desc())
        )
    ).all()
    known = {row.event_id for row in stored}
    pending = await conn.execute(
        select(outbox.c.event_id, outbox.c.payload)
        .where(outbox.c.topic == settings.sales_topic)
        .order_by(outbox.c.id.desc())
        .limit(RECENT_OUTBOX_ROWS)
    )
    return [row.document for row in stored] + [
        row.payload for row in pending if row.event_id not in known
    ]
