"""Stock levels, as the stream job keeps them in MySQL."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.db.tables import products, stocks

StockStatus = Literal["ok", "low", "out"]


class StockLevel(BaseModel):
    store_id: str
    sku: str
    name: str
    name_my: str | None
    category: str
    on_hand: int
    reorder_point: int
    stock_quantity: int
    total_sold: int
    status: StockStatus


def stock_status(on_hand: int, reorder_point: int) -> StockStatus:
    if on_hand <= 0:
        return "out"
    return "low" if on_hand <= reorder_point else "ok"


async def stock_levels(
    conn: AsyncConnection, *, store_id: str, only_alerts: bool = False
) -> list[StockLevel]:
    query = (
        select(
            stocks.c.store_id,
            stocks.c.sku,
            products.c.name,
            products.c.name_my,
            products.c.category,
            stocks.c.on_hand,
            products.c.reorder_point,
            stocks.c.stock_quantity,
            stocks.c.total_sold,
        )
        .join(products, products.c.sku == stocks.c.sku)
        .where(stocks.c.store_id == store_id)
        .order_by(products.c.category, products.c.name)
    )
    if only_alerts:
        query = query.where(stocks.c.on_hand <= products.c.reorder_point)
    rows = (await conn.execute(query)).mappings()
    return [
        StockLevel(**row, status=stock_status(row["on_hand"], row["reorder_point"])) for row in rows
    ]
