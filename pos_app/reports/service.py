"""Sales figures from the period tables the stream job keeps: totals, by year and
month, and the best products. Money is summed by MySQL in DECIMAL, never in floats."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.db.tables import (
    product_monthly_sales,
    sales_daily,
    sales_monthly,
    sales_yearly,
    stocks,
)
from pos_app.db.tables import products as products_table


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


# --- The manager's dashboard -----------------------------------------------------------


class MonthComparison(BaseModel):
    month: int
    revenue: Decimal
    revenue_last_year: Decimal


class StockAgainstSold(BaseModel):
    sku: str
    name: str
    on_hand: int
    sold: int


class Dashboard(BaseModel):
    store_id: str
    years: list[int]  # years with sales, for the filter
    year: int
    month: int | None
    day: int | None
    period: Totals  # the selected year, month or day
    months: list[MonthComparison]  # the selected year beside the one before
    products: list[ProductTotals]  # best sellers of the selected year or month
    stock_against_sold: list[StockAgainstSold]


async def dashboard(
    conn: AsyncConnection,
    *,
    store_id: str,
    year: int | None,
    month: int | None = None,
    day: int | None = None,
    default_year: int,
) -> Dashboard:
    y, m, d, p = sales_yearly, sales_monthly, sales_daily, product_monthly_sales
    years = list(
        (
            await conn.scalars(select(y.c.year).where(y.c.store_id == store_id).order_by(y.c.year))
        ).all()
    )
    year = year or (years[-1] if years else default_year)
    if day is not None and month is not None:
        period_query = select(*_measures(d)).where(
            d.c.store_id == store_id, d.c.sale_date == date(year, month, day)
        )
    elif month is not None:
        period_query = select(*_measures(m)).where(
            m.c.store_id == store_id, m.c.year == year, m.c.month == month
        )
    else:
        period_query = select(*_measures(y)).where(y.c.store_id == store_id, y.c.year == year)
    period = Totals.model_validate(dict((await conn.execute(period_query)).mappings().one()))

    revenue = {
        (row.year, row.month): row.revenue
        for row in await conn.execute(
            select(m.c.year, m.c.month, m.c.revenue).where(
                m.c.store_id == store_id, m.c.year.in_([year, year - 1])
            )
        )
    }
    months = [
        MonthComparison(
            month=n,
            revenue=revenue.get((year, n), Decimal(0)),
            revenue_last_year=revenue.get((year - 1, n), Decimal(0)),
        )
        for n in range(1, 13)
    ]
    product_filter = [p.c.store_id == store_id, p.c.year == year]
    if month is not None:
        product_filter.append(p.c.month == month)
    products = await conn.execute(
        select(
            p.c.sku,
            func.max(p.c.product).label("product"),
            func.sum(p.c.units).label("units"),
            func.sum(p.c.revenue).label("revenue"),
        )
        .where(*product_filter)
        .group_by(p.c.sku)
        .order_by(func.sum(p.c.revenue).desc(), p.c.sku)
        .limit(10)
    )
    stock_rows = await conn.execute(
        select(stocks.c.sku, products_table.c.name, stocks.c.on_hand, stocks.c.total_sold)
        .join(products_table, products_table.c.sku == stocks.c.sku)
        .where(stocks.c.store_id == store_id)
        .order_by(stocks.c.total_sold.desc(), stocks.c.sku)
        .limit(15)
    )
    return Dashboard(
        store_id=store_id,
        years=years,
        year=year,
        month=month,
        day=day if month is not None else None,
        period=period,
        months=months,
        products=[ProductTotals.model_validate(dict(r)) for r in products.mappings()],
        stock_against_sold=[
            StockAgainstSold(sku=r.sku, name=r.name, on_hand=r.on_hand, sold=r.total_sold)
            for r in stock_rows
        ],
    )
