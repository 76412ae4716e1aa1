"""The manager's "Today": the day so far, beside the same weekday last week up to the same
time of day, read from what the stream job stored in MySQL (so it shows what the pipeline
processed, and says how far behind the pipeline is).

Figures are net of returns, as `sales_daily` keeps them: revenue is today's sale lines
less today's refunds, units likewise; the number of sales counts sales only."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.alerts.service import StockAlert, list_alerts
from pos_app.contract import STREAM_QUERY_NAME
from pos_app.db.tables import sale_returns, sales, stream_batches
from pos_app.events import outbox
from pos_app.settings import Settings

RECENT = 20
CENT = Decimal("0.01")
Day = date  # `Today.date` would shadow the type inside the class


class Figures(BaseModel):
    revenue: Decimal  # net of refunds
    sales: int
    units: int  # net of units returned
    average_sale: Decimal  # revenue / sales, to the cent


class HourFigures(BaseModel):
    hour: int  # shop-local hour, 0-23
    revenue: Decimal
    revenue_last_week: Decimal  # the whole hour a week ago


class RecentSale(BaseModel):
    sale_id: str
    sold_at: time  # shop-local
    cashier: str
    units: int
    total: Decimal


class PipelineLag(BaseModel):
    newest_sale_age_seconds: float | None  # now - the newest processed sale's time
    last_batch_age_seconds: float | None  # now - the stream job's last stored batch
    outbox_pending: int  # sales and other events not yet published to Kafka
    outbox_oldest_pending_age_seconds: float | None


class Today(BaseModel):
    store_id: str
    date: Day
    as_of: time  # shop-local time the comparison runs up to, with the shop's offset
    last_week_date: Day
    today: Figures
    last_week: Figures  # the same weekday last week, up to `as_of`
    by_hour: list[HourFigures]
    recent_sales: list[RecentSale]  # newest processed first
    open_alerts: list[StockAlert]
    pipeline: PipelineLag


@dataclass
class _Sum:
    revenue: Decimal = Decimal(0)
    units: int = 0
    sales: int = 0

    def figures(self) -> Figures:
        average = (self.revenue / self.sales).quantize(CENT, ROUND_HALF_UP) if self.sales else 0
        return Figures(
            revenue=self.revenue, sales=self.sales, units=self.units, average_sale=Decimal(average)
        )


def _seconds(microseconds: Any) -> float | None:
    return int(microseconds) / 1e6 if microseconds is not None else None


async def today_report(
    conn: AsyncConnection, *, settings: Settings, now: datetime | None = None
) -> Today:
    store = settings.store_id
    zone = ZoneInfo(settings.shop_timezone)
    local_now = (now or datetime.now(UTC)).astimezone(zone)
    today, as_of = local_now.date(), local_now.time().replace(microsecond=0)
    week_ago = today - timedelta(days=7)

    # Sale lines by day and hour (a sale has one time, so its lines share an hour).
    hour = func.hour(sales.c.sale_time)
    by_hour_rows = await conn.execute(
        select(
            sales.c.sale_date,
            hour.label("hour"),
            func.sum(sales.c.sales).label("revenue"),
            func.sum(sales.c.quantity_sold).label("units"),
            func.count(sales.c.sale_id.distinct()).label("sales"),
        )
        .where(sales.c.store_id == store, sales.c.sale_date.in_([today, week_ago]))
        .group_by(sales.c.sale_date, hour)
    )
    hours: dict[date, dict[int, _Sum]] = {today: defaultdict(_Sum), week_ago: defaultdict(_Sum)}
    totals = {today: _Sum(), week_ago: _Sum()}
    for row in by_hour_rows:
        cell = hours[row.sale_date][int(row.hour)]
        cell.revenue += row.revenue
        cell.units += int(row.units)
        cell.sales += int(row.sales)
        if row.sale_date == today:
            totals[today].revenue += row.revenue
            totals[today].units += int(row.units)
            totals[today].sales += int(row.sales)

    # Last week only up to the same time of day, to the second.
    earlier = (
        (
            await conn.execute(
                select(
                    func.coalesce(func.sum(sales.c.sales), 0).label("revenue"),
                    func.coalesce(func.sum(sales.c.quantity_sold), 0).label("units"),
                    func.count(sales.c.sale_id.distinct()).label("sales"),
                ).where(
                    sales.c.store_id == store,
                    sales.c.sale_date == week_ago,
                    sales.c.sale_time <= as_of,
                )
            )
        )
        .mappings()
        .one()
    )
    totals[week_ago] = _Sum(Decimal(earlier["revenue"]), int(earlier["units"]), earlier["sales"])

    # Refunds on the day the goods came back; their time of day from occurred_at (UTC).
    returned = await conn.execute(
        select(
            sale_returns.c.return_date,
            sale_returns.c.occurred_at,
            sale_returns.c.refund,
            sale_returns.c.quantity_returned,
        ).where(
            sale_returns.c.store_id == store,
            sale_returns.c.return_date.in_([today, week_ago]),
        )
    )
    for row in returned:
        local = row.occurred_at.replace(tzinfo=UTC).astimezone(zone)
        cell = hours[row.return_date][local.hour]
        cell.revenue -= row.refund
        cell.units -= row.quantity_returned
        if row.return_date == today or local.time() <= as_of:
            totals[row.return_date].revenue -= row.refund
            totals[row.return_date].units -= row.quantity_returned

    recent = await conn.execute(
        select(
            sales.c.sale_id,
            func.max(sales.c.sale_time).label("sold_at"),
            func.max(sales.c.cashier).label("cashier"),
            func.sum(sales.c.quantity_sold).label("units"),
            func.sum(sales.c.sales).label("total"),
        )
        .where(sales.c.store_id == store, sales.c.sale_date == today)
        .group_by(sales.c.sale_id)
        .order_by(
            func.max(sales.c.processed_at).desc(),
            func.max(sales.c.occurred_at).desc(),
            sales.c.sale_id.desc(),
        )
        .limit(RECENT)
    )

    return Today(
        store_id=store,
        date=today,
        # RFC 3339's time of day carries its offset (+06:30 in Yangon).
        as_of=as_of.replace(tzinfo=timezone(local_now.utcoffset() or timedelta(0))),
        last_week_date=week_ago,
        today=totals[today].figures(),
        last_week=totals[week_ago].figures(),
        by_hour=[
            HourFigures(
                hour=h,
                revenue=hours[today][h].revenue if h in hours[today] else Decimal(0),
                revenue_last_week=hours[week_ago][h].revenue
                if h in hours[week_ago]
                else Decimal(0),
            )
            for h in range(24)
        ],
        recent_sales=[
            RecentSale(
                sale_id=r.sale_id,
                sold_at=_as_time(r.sold_at),
                cashier=r.cashier,
                units=int(r.units),
                total=r.total,
            )
            for r in recent
        ],
        open_alerts=await list_alerts(conn, stores=[store], open_only=True, limit=100),
        pipeline=await pipeline_lag(conn, store_id=store, since=today - timedelta(days=1)),
    )


def _as_time(value: time | timedelta) -> time:
    """MySQL TIME comes back from the driver as a timedelta."""
    if isinstance(value, timedelta):
        return (datetime.min + value).time()
    return value


async def pipeline_lag(conn: AsyncConnection, *, store_id: str, since: date) -> PipelineLag:
    # Ages are computed by MySQL, on the clock that stamped the rows; occurred_at is UTC.
    newest = await conn.scalar(
        select(
            func.timestampdiff(
                text("MICROSECOND"), func.max(sales.c.occurred_at), func.utc_timestamp(3)
            )
        ).where(sales.c.store_id == store_id, sales.c.sale_date >= since)
    )
    last_batch = await conn.scalar(
        select(
            func.timestampdiff(
                text("MICROSECOND"), stream_batches.c.committed_at, text("CURRENT_TIMESTAMP(3)")
            )
        )
        .where(stream_batches.c.query_name == STREAM_QUERY_NAME)
        .order_by(stream_batches.c.batch_id.desc())
        .limit(1)
    )
    waiting = await outbox.status(conn)
    return PipelineLag(
        newest_sale_age_seconds=_seconds(newest),
        last_batch_age_seconds=_seconds(last_batch),
        outbox_pending=waiting.pending,
        outbox_oldest_pending_age_seconds=waiting.oldest_pending_age_seconds,
    )
