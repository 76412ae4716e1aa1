"""Reading the catalog."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import ColumnElement, bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.db.tables import product_stores, products


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


def sold_at(store_id: str | ColumnElement[str]) -> ColumnElement[bool]:
    """The products a store sells (the rule every store-facing query shares)."""
    return products.c.sku.in_(
        select(product_stores.c.sku).where(product_stores.c.store_id == store_id)
    )


async def list_products(
    conn: AsyncConnection, *, store_id: str | None, active_only: bool = True
) -> list[Product]:
    """The catalog of one store, or of every store when store_id is None."""
    query = select(products).order_by(products.c.category, products.c.name)
    if active_only:
        query = query.where(products.c.active.is_(True))
    if store_id is not None:
        query = query.where(sold_at(store_id))
    rows = (await conn.execute(query)).mappings()
    return [Product.model_validate(dict(row)) for row in rows]


# Built once: every sale prices its lines with it.
_PRODUCTS_BY_SKU = select(products).where(
    products.c.sku.in_(bindparam("skus", expanding=True)), sold_at(bindparam("store_id"))
)


async def products_by_sku(
    conn: AsyncConnection, skus: Iterable[str], *, store_id: str
) -> dict[str, Product]:
    """The products of `skus` that `store_id` sells; others are missing from the answer."""
    wanted = sorted(set(skus))
    if not wanted:
        return {}
    rows = await conn.execute(_PRODUCTS_BY_SKU, {"skus": wanted, "store_id": store_id})
    return {row["sku"]: Product.model_validate(dict(row)) for row in rows.mappings()}
