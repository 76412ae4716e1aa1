"""Units sold per product and local month, net of returns: the refill plan's history.

The stream job keeps exactly these figures in `product_monthly_sales` (a sale's units in
the month it occurred, a return's taken off the month of the return), so the plan reads
one small table instead of every raw event. `fold` computes the same from raw events,
to check the table against the raw store.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.contract import SALE_RETURNED
from pos_app.db.tables import product_monthly_sales
from pos_app.planning.forecast import Month


def local_month(occurred_at: str) -> Month:
    """The month as the event states it: occurred_at carries the shop's own offset
    (docs/events.md), so its date is the local date whatever zone the server is in."""
    when = datetime.fromisoformat(occurred_at)
    return when.year, when.month


def fold(events: Iterable[Mapping[str, Any]]) -> dict[tuple[str, Month], int]:
    """events: the `event` part of raw_events documents. Sales add their lines' units to
    the month they occurred in; returns take theirs off the month of the return."""
    units: dict[tuple[str, Month], int] = defaultdict(int)
    for event in events:
        sign = -1 if event.get("event_type") == SALE_RETURNED else 1
        month = local_month(str(event["occurred_at"]))
        for line in event.get("lines") or ():
            units[(str(line["sku"]), month)] += sign * int(line["quantity"])
    return dict(units)


async def load_history(
    conn: AsyncConnection, *, store_id: str, since: Month, until: Month
) -> dict[tuple[str, Month], int]:
    """Units per (sku, month) for the months since..until-1."""
    table = product_monthly_sales.c
    month_key = table.year * 100 + table.month
    rows = await conn.execute(
        select(table.sku, table.year, table.month, table.units).where(
            table.store_id == store_id,
            month_key >= since[0] * 100 + since[1],
            month_key < until[0] * 100 + until[1],
        )
    )
    return {(row.sku, (int(row.year), int(row.month))): int(row.units) for row in rows}
