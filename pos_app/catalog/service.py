"""Reading the catalog."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.db.tables import products


class Product(BaseModel):
    sku: str
    name: str
    name_my: str | None
    category: str
    size: str | None
    colour: str | None
    unit_price: Decimal
    reorder_point: int
    active: bool
    barcode: str | None = None
    style: str | None = None
    cost_price: Decimal | None = None


async def list_products(conn: AsyncConnection, *, active_only: bool = True) -> list[Product]:
    query = select(products).order_by(products.c.category, products.c.name)
    if active_only:
        query = query.where(products.c.active.is_(True))
    rows = (await conn.execute(query)).mappings()
    return [Product.model_validate(dict(row)) for row in rows]


# Built once: every sale prices its lines with it.
_PRODUCTS_BY_SKU = select(products).where(products.c.sku.in_(bindparam("skus", expanding=True)))


async def products_by_sku(conn: AsyncConnection, skus: Iterable[str]) -> dict[str, Product]:
    wanted = sorted(set(skus))
    if not wanted:
        return {}
    rows = (await conn.execute(_PRODUCTS_BY_SKU, {"skus": wanted})).mappings()
    return {row["sku"]: Product.model_validate(dict(row)) for row in rows}
