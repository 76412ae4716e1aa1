"""Sales figures read from the `sales` lines the stream job keeps: totals, by year and
month, and the best products. Money is summed by MySQL in DECIMAL, never in floats."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.db.tables import sales


class Totals(BaseModel):
    lines: int
    sales: int
    units: int
    revenue: Decimal


class PeriodTotals(Totals):
    year: int
    month: int | None = None


class ProductTotals(BaseModel):
    sku: str
    product: str
    units: int
    revenue: Decimal


class SalesSummary(BaseModel):
    store_id: str
    totals: Totals
    by_year: list[PeriodTotals]
    by_month: list[PeriodTotals]
    top_by_revenue: list[ProductTotals]
    top_by_units: list[ProductTotals]


def _measures() -> list[Any]:
    return [
        func.count().label("lines"),
        func.count(sales.c.sale_id.distinct()).label("sales"),
        func.coalesce(func.sum(sales.c.quantity_sold), 0).label("units"),
        func.coalesce(func.sum(sales.c.sales), 0).label("revenue"),
    ]


async def sales_summary(conn: AsyncConnection, *, store_id: str, top: int = 10) -> SalesSummary:
    def of_store(query: Select[Any]) -> Select[Any]:
        return query.where(sales.c.store_id == store_id)

    totals = (await conn.execute(of_store(select(*_measures())))).mappings().one()
    years = await conn.execute(
        of_store(select(sales.c.year, *_measures())).group_by(sales.c.year).order_by(sales.c.year)
    )
    months = await conn.execute(
        of_store(select(sales.c.year, sales.c.month, *_measures()))
        .group_by(sales.c.year, sales.c.month)
        .order_by(sales.c.year, sales.c.month)
    )
    per_product = of_store(
        select(
            sales.c.sku,
            func.max(sales.c.product).label("product"),
            func.sum(sales.c.quantity_sold).label("units"),
            func.sum(sales.c.sales).label("revenue"),
        )
    ).group_by(sales.c.sku)
    by_revenue = await conn.execute(
        per_product.order_by(func.sum(sales.c.sales).desc(), sales.c.sku).limit(top)
    )
    by_units = await conn.execute(
        per_product.order_by(func.sum(sales.c.quantity_sold).desc(), sales.c.sku).limit(top)
    )
    return SalesSummary(
        store_id=store_id,
        totals=Totals.model_validate(dict(totals)),
        by_year=[PeriodTotals.model_validate(dict(r)) for r in years.mappings()],
        by_month=[PeriodTotals.model_validate(dict(r)) for r in months.mappings()],
        top_by_revenue=[ProductTotals.model_validate(dict(r)) for r in by_revenue.mappings()],
        top_by_units=[ProductTotals.model_validate(dict(r)) for r in by_units.mappings()],
    )
