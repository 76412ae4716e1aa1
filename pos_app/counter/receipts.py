"""Receipts: a sale as recorded (`pos_app.sales.documents`: the pipeline's read model,
or the outbox for a sale it has not stored yet), for the receipt after Pay and the
reprint list of today's sales."""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.contract import SaleCompleted
from pos_app.sales.documents import recorded_sale, sales_of_day
from pos_app.settings import Settings


def _parse(payload: str) -> SaleCompleted | None:
    try:
        return SaleCompleted.model_validate_json(payload)
    except ValidationError:
        return None  # another kind of event on the topic


async def todays_sales(conn: AsyncConnection, *, settings: Settings) -> list[SaleCompleted]:
    today = settings.today()
    sales = [_parse(payload) for payload in await sales_of_day(conn, today, settings=settings)]
    found = [
        s
        for s in sales
        if s is not None and s.store_id == settings.store_id and s.occurred_at.date() == today
    ]
    return sorted(found, key=lambda sale: sale.occurred_at, reverse=True)


async def find_sale(
    conn: AsyncConnection, sale_id: str, *, settings: Settings
) -> SaleCompleted | None:
    payload = await recorded_sale(conn, sale_id, settings=settings)
    sale = _parse(payload) if payload is not None else None
    if sale is not None and sale.store_id == settings.store_id:
        return sale
    return None
