"""The monthly commercial tax report, from the totals the stream job books (`sale_totals`):
per month and tax mode, what the lines charged, the tax and the net, returns deducted."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.db.tables import sale_totals


class TaxMonth(BaseModel):
    period: str  # "2026-12"
    mode: str  # included | added
    rate: Decimal
    base: Decimal  # what the lines charged, less returns
    tax: Decimal
    net: Decimal  # base less tax included in it
    receipts: int  # taxed sales
    refunds: int  # taxed returns


class TaxReport(BaseModel):
    store: str | None
    date_from: date | None
    date_to: date | None
    months: list[TaxMonth]
    tax: Decimal  # over the whole range


async def tax_report(
    conn: AsyncConnection,
    *,
    start: date | None,
    end: date | None,
    store: str | None,
    among: Collection[str] | None = None,
) -> TaxReport:
    t = sale_totals
    year, month = func.year(t.c.doc_date), func.month(t.c.doc_date)
    conditions = [t.c.tax_mode != "none"]
    if store is not None:
        conditions.append(t.c.store_id == store)
    if among is not None:  # "all stores" is all the caller may see
        conditions.append(t.c.store_id.in_(sorted(among)))
    if start is not None:
        conditions.append(t.c.doc_date >= start)
    if end is not None:
        conditions.append(t.c.doc_date <= end)
    query = (
        select(
            year.label("y"),
            month.label("m"),
            t.c.tax_mode.label("mode"),
            t.c.tax_rate.label("rate"),
            func.sum(t.c.base).label("base"),
            func.sum(t.c.tax).label("tax"),
            func.sum(t.c.net).label("net"),
            func.sum(case((t.c.kind == "sale", 1), else_=0)).label("receipts"),
            func.sum(case((t.c.kind == "refund", 1), else_=0)).label("refunds"),
        )
        .where(*conditions)
        .group_by(year, month, t.c.tax_mode, t.c.tax_rate)
        .order_by(year, month, t.c.tax_mode, t.c.tax_rate)
    )
    months = [
        TaxMonth(
            period=f"{int(row.y):04d}-{int(row.m):02d}",
            mode=row.mode,
            rate=row.rate,
            base=row.base,
            tax=row.tax,
            net=row.net,
            receipts=int(row.receipts),
            refunds=int(row.refunds),
        )
        for row in await conn.execute(query)
    ]
    return TaxReport(
        store=store,
        date_from=start,
        date_to=end,
        months=months,
        tax=sum((m.tax for m in months), Decimal(0)),
    )
