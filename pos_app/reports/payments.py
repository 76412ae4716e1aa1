"""Money by payment method per day, month or year, from the payments the stream job
books (`sale_payments`): what came in by each method, what was refunded that way, and
the net. Summed by MySQL in DECIMAL."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.db.tables import sale_payments
from pos_app.reports.service import Granularity


class MethodRow(BaseModel):
    period: str  # "2026-12-01", "2026-12" or "2026"
    start: date | None  # the period's first day (the range's, for totals)
    method: str
    paid: Decimal  # taken by this method
    refunded: Decimal  # paid back this way (positive)
    amount: Decimal  # paid less refunded
    payments: int  # tenders taken (a split sale counts once per method)


class PaymentsReport(BaseModel):
    store: str | None
    granularity: Granularity
    date_from: date | None
    date_to: date | None
    rows: list[MethodRow]
    totals: list[MethodRow]  # per method over the whole range (period "all")


def _period(granularity: Granularity, row: Any) -> tuple[str, date]:
    if granularity == "day":
        return row["k0"].isoformat(), row["k0"]
    if granularity == "month":
        first = date(int(row["k0"]), int(row["k1"]), 1)
        return f"{first:%Y-%m}", first
    return str(row["k0"]), date(int(row["k0"]), 1, 1)


async def payments_report(
    conn: AsyncConnection,
    *,
    granularity: Granularity,
    start: date | None,
    end: date | None,
    store: str | None,
    among: Collection[str] | None = None,
) -> PaymentsReport:
    """One row per period and method over the days start..end (inclusive)."""
    p = sale_payments
    year, month = func.year(p.c.payment_date), func.month(p.c.payment_date)
    groupings: dict[str, list[Any]] = {
        "year": [year],
        "month": [year, month],
        "day": [p.c.payment_date],
    }
    keys = groupings[granularity]
    conditions = []
    if store is not None:
        conditions.append(p.c.store_id == store)
    if among is not None:  # "all stores" is all the caller may see
        conditions.append(p.c.store_id.in_(sorted(among)))
    if start is not None:
        conditions.append(p.c.payment_date >= start)
    if end is not None:
        conditions.append(p.c.payment_date <= end)
    measures = [
        func.coalesce(func.sum(case((p.c.amount > 0, p.c.amount), else_=0)), 0).label("paid"),
        func.coalesce(func.sum(case((p.c.amount < 0, -p.c.amount), else_=0)), 0).label("refunded"),
        func.coalesce(func.sum(p.c.amount), 0).label("amount"),
        func.sum(case((p.c.kind == "sale", 1), else_=0)).label("payments"),
    ]
    query = (
        select(*[k.label(f"k{i}") for i, k in enumerate(keys)], p.c.method, *measures)
        .where(*conditions)
        .group_by(*keys, p.c.method)
        .order_by(*keys, p.c.method)
    )
    rows = []
    for row in (await conn.execute(query)).mappings():
        period, first = _period(granularity, row)
        rows.append(_method_row(period, first, row))
    by_method = select(p.c.method, *measures).where(*conditions).group_by(p.c.method)
    totals = [
        _method_row("all", start, row)
        for row in (await conn.execute(by_method.order_by(p.c.method))).mappings()
    ]
    return PaymentsReport(
        store=store,
        granularity=granularity,
        date_from=start,
        date_to=end,
        rows=rows,
        totals=totals,
    )


def _method_row(period: str, first: date | None, row: Any) -> MethodRow:
    return MethodRow(
        period=period,
        start=first,
        method=row["method"],
        paid=Decimal(row["paid"]),
        refunded=Decimal(row["refunded"]),
        amount=Decimal(row["amount"]),
        payments=int(row["payments"] or 0),
    )
