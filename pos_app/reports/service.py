"""Sales figures from the period tables the stream job keeps: totals, by year and
month, and the best products. Money is summed by MySQL in DECIMAL, never in floats."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.db.tables import product_monthly_sales, sales_monthly, sales_yearly


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


def _measures(table: Table) -> list[Any]:
    return [
        func.coalesce(func.sum(table.c.lines_count), 0).label("lines"),
        func.coalesce(func.sum(table.c.sales_count), 0).label("sales"),
        func.coalesce(func.sum(table.c.units), 0).label("units"),
        func.coalesce(func.sum(table.c.revenue), 0).label("revenue"),
    ]


async def sales_summary(conn: AsyncConnection, *, store_id: str, top: int = 10) -> SalesSummary:
    """From the period tables the stream job keeps (not by scanning every line)."""
    y, m, p = sales_yearly, sales_monthly, product_monthly_sales
    totals = (
        (await conn.execute(select(*_measures(y)).where(y.c.store_id == store_id))).mappings().one()
    )
    years = await conn.execute(
        select(y.c.year, *_measures(y))
        .where(y.c.store_id == store_id)
        .group_by(y.c.year)
        .order_by(y.c.year)
    )
    months = await conn.execute(
        select(m.c.year, m.c.month, *_measures(m))
        .where(m.c.store_id == store_id)
        .group_by(m.c.year, m.c.month)
        .order_by(m.c.year, m.c.month)
    )
    per_product = (
        select(
            p.c.sku,
            func.max(p.c.product).label("product"),
            func.sum(p.c.units).label("units"),
            func.sum(p.c.revenue).label("revenue"),
        )
        .where(p.c.store_id == store_id)
        .group_by(p.c.sku)
    )
    by_revenue = await conn.execute(
        per_product.order_by(func.sum(p.c.revenue).desc(), p.c.sku).limit(top)
    )
    by_units = await conn.execute(
        per_product.order_by(func.sum(p.c.units).desc(), p.c.sku).limit(top)
    )
    return SalesSummary(
        store_id=store_id,
        totals=Totals.model_validate(dict(totals)),
        by_year=[PeriodTotals.model_validate(dict(r)) for r in years.mappings()],
        by_month=[PeriodTotals.model_validate(dict(r)) for r in months.mappings()],
        top_by_revenue=[ProductTotals.model_validate(dict(r)) for r in by_revenue.mappings()],
        top_by_units=[ProductTotals.model_validate(dict(r)) for r in by_units.mappings()],
    )
