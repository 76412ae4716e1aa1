"""Receipts of today's sales, read back from the outbox (which keeps every sale's
event as it was recorded, published or not), for the reprint list."""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.contract import SaleCompleted
from pos_app.db.tables import outbox
from pos_app.settings import Settings

RECENT_ROWS = 2000  # today's sales at a small shop are far fewer


def _parse(payload: str) -> SaleCompleted | None:
    try:
        return SaleCompleted.model_validate_json(payload)
    except ValidationError:
        return None  # another kind of event on the topic


async def todays_sales(conn: AsyncConnection, *, settings: Settings) -> list[SaleCompleted]:
    rows = await conn.execute(
        select(outbox.c.payload)
        .where(outbox.c.topic == settings.sales_topic)
        .order_by(outbox.c.id.desc())
        .limit(RECENT_ROWS)
    )
    today = settings.today()
    sales = [_parse(row.payload) for row in rows]
    return [
        s
        for s in sales
        if s is not None and s.store_id == settings.store_id and s.occurred_at.date() == today
    ]


async def find_sale(
    conn: AsyncConnection, sale_id: str, *, settings: Settings
) -> SaleCompleted | None:
    rows = await conn.execute(
        select(outbox.c.payload).where(
            outbox.c.topic == settings.sales_topic, outbox.c.event_key == sale_id
        )
    )
    for row in rows:
        sale = _parse(row.payload)
        if sale is not None and sale.store_id == settings.store_id:
            return sale
    return None
