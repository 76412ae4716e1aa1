"""Sales figures from the period tables the stream job keeps: totals, by year and
month, and the best products. Money is summed by MySQL in DECIMAL, never in floats."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, computed_field
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


def gross_margin(costed_revenue: Decimal, cost: Decimal) -> Decimal | None:
    """Revenue less cost, over the lines sold with a known cost price (at the cost of the
    day they were sold); None when no line had one: unknown, not 100 %."""
    if costed_revenue == 0 and cost == 0:
        return None
    return costed_revenue - cost


class _Margin(BaseModel):
    revenue: Decimal
    cost: Decimal = Decimal(0)  # of the lines with a known cost price
    costed_revenue: Decimal = Decimal(0)  # the revenue of those lines

    @computed_field  # type: ignore[prop-decorator]
    @property
    def margin(self) -> Decimal | None:
        """Gross margin: costed_revenue - cost; null when no line had a cost price."""
        return gross_margin(self.costed_revenue, self.cost)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def revenue_without_cost(self) -> Decimal:
        """Revenue of lines sold without a cost price: outside the margin."""
        return self.revenue - self.costed_revenue


COMPUTED = {"margin", "revenue_without_cost"}


class Totals(_Margin):
    lines: int
    sales: int
    units: int


class PeriodTotals(Totals):
    year: int
    month: int | None = None


class ProductTotals(_Margin):
    sku: str
    product: str  # the catalogue's current name
    units: int


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
        func.coalesce(func.sum(table.c.cost), 0).label("cost"),
        func.coalesce(func.sum(table.c.costed_revenue), 0).label("costed_revenue"),
    ]


def _product_measures() -> list[Any]:
    """Per SKU of product_monthly_sales joined to the catalogue: the product's name as the
    catalogue has it now (the table keeps a name its sales gave), units, money."""
    p = product_monthly_sales
    return [
        p.c.sku,
        func.coalesce(func.max(products_table.c.name), func.max(p.c.product)).label("product"),
        func.sum(p.c.units).label("units"),
        func.sum(p.c.revenue).label("revenue"),
        func.sum(p.c.cost).label("cost"),
        func.sum(p.c.costed_revenue).label("costed_revenue"),
    ]


# product_monthly_sales with each row's product (outer: a SKU gone from the catalogue stays).
_WITH_CATALOG = product_monthly_sales.outerjoin(
    products_table, products_table.c.sku == product_monthly_sales.c.sku
)


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
        select(*_product_measures())
        .select_from(_WITH_CATALOG)
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
        select(*_product_measures())
        .select_from(_WITH_CATALOG)
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


# --- Sales by period and top products (REST and the manager's top products page) -------

Granularity = Literal["year", "month", "day"]
Ranking = Literal["revenue", "units"]


class PeriodRow(_Margin):
    period: str  # "2025", "2025-04" or "2025-04-13"
    start: date  # the period's first day
    units: int
    sales: int
    lines: int


class SalesReport(BaseModel):
    store: str | None  # None: all stores
    granularity: Granularity
    date_from: date | None
    date_to: date | None
    totals: Totals
    periods: list[PeriodRow]  # periods with sales only, oldest first


async def sales_report(
    conn: AsyncConnection,
    *,
    granularity: Granularity,
    start: date | None,
    end: date | None,
    store: str | None,
) -> SalesReport:
    """Totals of the days start..end (inclusive), grouped by year, month or day. Built
    from sales_daily, so a range that cuts a month or year in two is still exact (a sale
    belongs to one day, so its counts add up across days and stores)."""
    d = sales_daily
    year = func.year(d.c.sale_date)
    month = func.month(d.c.sale_date)
    groupings: dict[str, list[Any]] = {
        "year": [year],
        "month": [year, month],
        "day": [d.c.sale_date],
    }
    keys = groupings[granularity]
    conditions = []
    if store is not None:
        conditions.append(d.c.store_id == store)
    if start is not None:
        conditions.append(d.c.sale_date >= start)
    if end is not None:
        conditions.append(d.c.sale_date <= end)
    query = (
        select(*[k.label(f"k{i}") for i, k in enumerate(keys)], *_measures(d))
        .where(*conditions)
        .group_by(*keys)
        .order_by(*keys)
    )
    periods = []
    for row in (await conn.execute(query)).mappings():
        if granularity == "day":
            first, label = row["k0"], row["k0"].isoformat()
        elif granularity == "month":
            first = date(int(row["k0"]), int(row["k1"]), 1)
            label = f"{first:%Y-%m}"
        else:
            first, label = date(int(row["k0"]), 1, 1), str(row["k0"])
        periods.append(
            PeriodRow(
                period=label,
                start=first,
                revenue=row["revenue"],
                cost=row["cost"],
                costed_revenue=row["costed_revenue"],
                units=int(row["units"]),
                sales=int(row["sales"]),
                lines=int(row["lines"]),
            )
        )
    totals = Totals(
        lines=sum(p.lines for p in periods),
        sales=sum(p.sales for p in periods),
        units=sum(p.units for p in periods),
        revenue=sum((p.revenue for p in periods), Decimal(0)),
        cost=sum((p.cost for p in periods), Decimal(0)),
        costed_revenue=sum((p.costed_revenue for p in periods), Decimal(0)),
    )
    return SalesReport(
        store=store,
        granularity=granularity,
        date_from=start,
        date_to=end,
        totals=totals,
        periods=periods,
    )


class RankedProduct(ProductTotals):
    rank: int


class TopProducts(BaseModel):
    store: str | None
    year: int | None
    month: int | None
    by: Ranking
    order: str  # how ties are broken, in words
    products: list[RankedProduct]


def _product_totals(conditions: list[Any]) -> Any:
    p = product_monthly_sales
    return (
        select(*_product_measures()).select_from(_WITH_CATALOG).where(*conditions).group_by(p.c.sku)
    )


def ranking_order(by: Ranking) -> list[Any]:
    """The measure asked for, then the other one, then the SKU: a stable, total order."""
    p = product_monthly_sales
    revenue, units = func.sum(p.c.revenue).desc(), func.sum(p.c.units).desc()
    return [revenue, units, p.c.sku] if by == "revenue" else [units, revenue, p.c.sku]


async def top_products(
    conn: AsyncConnection,
    *,
    year: int | None,
    month: int | None,
    by: Ranking,
    limit: int,
    store: str | None,
) -> TopProducts:
    p = product_monthly_sales
    conditions: list[Any] = []
    if store is not None:
        conditions.append(p.c.store_id == store)
    if year is not None:
        conditions.append(p.c.year == year)
    if month is not None:
        conditions.append(p.c.month == month)
    rows = await conn.execute(_product_totals(conditions).order_by(*ranking_order(by)).limit(limit))
    other = "units" if by == "revenue" else "revenue"
    return TopProducts(
        store=store,
        year=year,
        month=month,
        by=by,
        order=f"{by} descending, then {other} descending, then SKU ascending",
        products=[RankedProduct(rank=n, **dict(r)) for n, r in enumerate(rows.mappings(), start=1)],
    )


class MonthTop(BaseModel):
    month: int
    products: list[RankedProduct]


class YearTops(BaseModel):
    year: int
    years: list[int]  # years with sales, for the page's filter
    months: list[MonthTop]  # the 12 months, each with its best products by revenue
    columns: list[ProductTotals]  # every product that is in some month's top, best first
    cells: dict[str, dict[int, Decimal]]  # sku -> month -> revenue


async def top_products_by_month(
    conn: AsyncConnection, *, year: int | None, store: str | None, top: int, default_year: int
) -> YearTops:
    """Each month's `top` products by revenue, and their revenue in every month of the
    year, for the heat map: one query over the year's product-month rows."""
    p = product_monthly_sales
    where_store = [p.c.store_id == store] if store is not None else []
    years = list(
        await conn.scalars(select(p.c.year).where(*where_store).distinct().order_by(p.c.year))
    )
    year = year or (years[-1] if years else default_year)
    rows = await conn.execute(
        select(p.c.month, *_product_measures())
        .select_from(_WITH_CATALOG)
        .where(*where_store, p.c.year == year)
        .group_by(p.c.month, p.c.sku)
    )
    by_month: dict[int, list[ProductTotals]] = {m: [] for m in range(1, 13)}
    for r in rows.mappings():
        by_month[int(r["month"])].append(ProductTotals.model_validate(dict(r)))
    months: list[MonthTop] = []
    cells: dict[str, dict[int, Decimal]] = {}
    names: dict[str, str] = {}
    year_total: dict[str, Decimal] = {}
    for month, items in by_month.items():
        for item in items:
            cells.setdefault(item.sku, {})[month] = item.revenue
            names[item.sku] = item.product
            year_total[item.sku] = year_total.get(item.sku, Decimal(0)) + item.revenue
        items.sort(key=lambda i: (-i.revenue, -i.units, i.sku))  # as ranking_order
        months.append(
            MonthTop(
                month=month,
                products=[
                    RankedProduct(
                        rank=n, **i.model_dump(exclude={"margin", "revenue_without_cost"})
                    )
                    for n, i in enumerate(items[:top], start=1)
                ],
            )
        )
    chosen = {p.sku for m in months for p in m.products}
    columns = [
        ProductTotals(
            sku=sku,
            product=names[sku],
            units=sum(i.units for m in by_month.values() for i in m if i.sku == sku),
            revenue=year_total[sku],
            cost=sum((i.cost for m in by_month.values() for i in m if i.sku == sku), Decimal(0)),
            costed_revenue=sum(
                (i.costed_revenue for m in by_month.values() for i in m if i.sku == sku),
                Decimal(0),
            ),
        )
        for sku in sorted(chosen, key=lambda s: (-year_total[s], s))
    ]
    return YearTops(
        year=year,
        years=years,
        months=months,
        columns=columns,
        cells={sku: cells[sku] for sku in chosen},
    )
