from __future__ import annotations

from collections.abc import Collection

from pydantic import BaseModel
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.api_types import UtcDateTime
from pos_app.db.tables import products, stock_alerts


class StockAlert(BaseModel):
    alert_id: int
    store_id: str
    sku: str
    name: str
    on_hand: int  # when the alert fired
    reorder_point: int
    raised_at: UtcDateTime
    acknowledged_at: UtcDateTime | None
    acknowledged_by: str | None


async def list_alerts(
    conn: AsyncConnection, *, stores: Collection[str], open_only: bool, limit: int
) -> list[StockAlert]:
    query = (
        select(stock_alerts, products.c.name)
        .join(products, products.c.sku == stock_alerts.c.sku)
        .order_by(stock_alerts.c.alert_id.desc())
        .limit(limit)
    )
    query = query.where(stock_alerts.c.store_id.in_(stores))
    if open_only:
        query = query.where(stock_alerts.c.acknowledged_at.is_(None))
    rows = (await conn.execute(query)).mappings()
    return [StockAlert.model_validate(dict(row)) for row in rows]


async def acknowledge(
    conn: AsyncConnection, alert_id: int, *, by: str, stores: Collection[str]
) -> bool | None:
    """True if acknowledged now, False if it already was, None if there is no such alert
    in `stores`."""
    mine = (stock_alerts.c.alert_id == alert_id, stock_alerts.c.store_id.in_(stores))
    result = await conn.execute(
        update(stock_alerts)
        .where(*mine, stock_alerts.c.acknowledged_at.is_(None))
        .values(acknowledged_at=text("CURRENT_TIMESTAMP(3)"), acknowledged_by=by)
    )
    if result.rowcount:
        return True
    exists = await conn.scalar(select(stock_alerts.c.alert_id).where(*mine))
    return False if exists is not None else None
