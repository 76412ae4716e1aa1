"""Compute, store and read a store's refill plan.

The plan is computed from the monthly sales and the stock in MySQL, then
written to `refill_plan` (all rows of the store replaced in one transaction) with a
`refill_plan_runs` row saying when, over what history, and how the method did in its
backtest. Readers take the stored plan and recompute it when it is older than
MAX_AGE or was made for another number of months.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import delete, select
from sqlalchemy.dialects.mysql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from pos_app.api_types import UtcDateTime
from pos_app.db.tables import products, refill_plan, refill_plan_runs, stocks
from pos_app.i18n import N_
from pos_app.planning import forecast as fc
from pos_app.planning.history import load_history
from pos_app.purchasing.service import on_order

MAX_AGE = timedelta(minutes=10)
HISTORY_MONTHS = 36
MAX_MONTHS = 11  # a year back from the last plan month must be a whole month of history
METHOD = N_("seasonal naive: same month of the last two years x the shop's yearly trend")


class RefillRow(BaseModel):
    sku: str
    product: str
    month: date  # first day of the month
    forecast_units: int
    expected_start_stock: int
    safety_stock: int
    suggested_order: int
    reason: str


class BacktestOut(BaseModel):
    months: int
    points: int
    actual_units: int
    mae: Decimal
    wape: Decimal | None
    baseline_mae: Decimal
    baseline_wape: Decimal | None


class RefillPlan(BaseModel):
    store_id: str
    months: int
    method: str
    safety_rule: str
    computed_at: UtcDateTime
    history_from: date | None
    history_to: date | None
    backtest: BacktestOut | None  # None: less than 13 months of history
    rows: list[RefillRow]


SAFETY_RULE = N_("a quarter of the month's forecast, rounded up (about a week of sales)")


def _first_day(month: fc.Month) -> date:
    return date(month[0], month[1], 1)


async def compute_plan(
    conn: AsyncConnection, *, store_id: str, today: date, months: int
) -> RefillPlan:
    """Forecast the `months` months after the current one and store the plan."""
    origin: fc.Month = (today.year, today.month)
    # Whole months only; 36 back: two years for the trend, one more for the backtest.
    history = await load_history(
        conn, store_id=store_id, since=fc.add_months(origin, -HISTORY_MONTHS), until=origin
    )
    sold_skus = {sku for sku, _ in history}
    catalog = {
        row.sku: row.name for row in await conn.execute(select(products.c.sku, products.c.name))
    }
    on_hand = {
        row.sku: int(row.on_hand)
        for row in await conn.execute(
            select(stocks.c.sku, stocks.c.on_hand).where(stocks.c.store_id == store_id)
        )
    }
    ordered = await on_order(conn, store_id=store_id)
    skus = sorted((set(on_hand) | sold_skus) & catalog.keys())
    seen_months = sorted({m for _, m in history})
    first = seen_months[0] if seen_months else None
    plan_months = [fc.add_months(origin, k) for k in range(1, months + 1)]

    rows: list[RefillRow] = []
    growth = fc.store_trend(history, origin, first)
    for sku in skus:
        forecasts = [
            fc.forecast(history, sku, m, origin=origin, first_month=first, growth=growth)
            for m in plan_months
        ]
        # Stock on order is counted as stock: it arrives before the plan's first month.
        stock = max(on_hand.get(sku, 0), 0) + ordered.get(sku, 0)
        lines = fc.order_plan(stock, [f.units for f in forecasts], plan_months)
        rows.extend(
            RefillRow(
                sku=sku,
                product=catalog[sku],
                month=_first_day(line.month),
                forecast_units=line.forecast_units,
                expected_start_stock=line.expected_start_stock,
                safety_stock=line.safety_stock,
                suggested_order=line.suggested_order,
                reason=f.reason,
            )
            for f, line in zip(forecasts, lines, strict=True)
        )
    rows.sort(key=lambda r: (r.month, r.sku))
    tested = fc.backtest(history, sold_skus & catalog.keys(), origin=origin)
    plan = RefillPlan(
        store_id=store_id,
        months=months,
        method=METHOD,
        safety_rule=SAFETY_RULE,
        computed_at=datetime.now(UTC).replace(tzinfo=None, microsecond=0),
        history_from=_first_day(first) if first else None,
        history_to=_first_day(seen_months[-1]) if seen_months else None,
        backtest=BacktestOut(**tested.__dict__) if tested else None,
        rows=rows,
    )
    await _store(conn, plan)
    return plan


async def _store(conn: AsyncConnection, plan: RefillPlan) -> None:
    """Replace the store's plan and run row, in the caller's transaction (so readers see
    the old plan or the new one, never half of it)."""
    await conn.execute(delete(refill_plan).where(refill_plan.c.store_id == plan.store_id))
    if plan.rows:
        await conn.execute(
            insert(refill_plan),
            [
                {
                    "store_id": plan.store_id,
                    "plan_month": r.month,
                    "sku": r.sku,
                    "product": r.product,
                    "forecast_units": r.forecast_units,
                    "expected_start_stock": r.expected_start_stock,
                    "safety_stock": r.safety_stock,
                    "suggested_order": r.suggested_order,
                    "reason": r.reason[:255],
                    "computed_at": plan.computed_at,
                }
                for r in plan.rows
            ],
        )
    tested = plan.backtest
    run = {
        "store_id": plan.store_id,
        "months": plan.months,
        "method": plan.method[:120],
        "history_from": plan.history_from,
        "history_to": plan.history_to,
        "backtest_months": tested.months if tested else 0,
        "backtest_points": tested.points if tested else 0,
        "backtest_units": tested.actual_units if tested else 0,
        "mae": tested.mae if tested else None,
        "wape": tested.wape if tested else None,
        "baseline_mae": tested.baseline_mae if tested else None,
        "baseline_wape": tested.baseline_wape if tested else None,
        "computed_at": plan.computed_at,
    }
    upsert = insert(refill_plan_runs).values(run)
    await conn.execute(
        upsert.on_duplicate_key_update({k: upsert.inserted[k] for k in run if k != "store_id"})
    )


async def stored_plan(conn: AsyncConnection, *, store_id: str) -> RefillPlan | None:
    runs = refill_plan_runs
    run = (await conn.execute(select(runs).where(runs.c.store_id == store_id))).mappings().first()
    if run is None:
        return None
    rows = await conn.execute(
        select(refill_plan)
        .where(refill_plan.c.store_id == store_id)
        .order_by(refill_plan.c.plan_month, refill_plan.c.sku)
    )
    tested = (
        BacktestOut(
            months=run["backtest_months"],
            points=run["backtest_points"],
            actual_units=run["backtest_units"],
            mae=run["mae"],
            wape=run["wape"],
            baseline_mae=run["baseline_mae"],
            baseline_wape=run["baseline_wape"],
        )
        if run["mae"] is not None
        else None
    )
    return RefillPlan(
        store_id=store_id,
        months=run["months"],
        method=run["method"],
        safety_rule=SAFETY_RULE,
        computed_at=run["computed_at"],
        history_from=run["history_from"],
        history_to=run["history_to"],
        backtest=tested,
        rows=[
            RefillRow(
                sku=r.sku,
                product=r.product,
                month=r.plan_month,
                forecast_units=r.forecast_units,
                expected_start_stock=r.expected_start_stock,
                safety_stock=r.safety_stock,
                suggested_order=r.suggested_order,
                reason=r.reason,
            )
            for r in rows
        ],
    )


async def store_exists(conn: AsyncConnection, *, store_id: str) -> bool:
    """A store is one that has stock rows (the catalog seed or the stream job made them)."""
    found = await conn.scalar(select(stocks.c.sku).where(stocks.c.store_id == store_id).limit(1))
    return found is not None


async def current_plan(
    conn: AsyncConnection,
    *,
    store_id: str,
    today: date,
    months: int,
    refresh: bool = False,
) -> tuple[RefillPlan, bool]:
    """(plan, stale). No stored plan, one for other months, or refresh: computed now.
    A plan older than MAX_AGE is returned at once and flagged stale, so the caller can
    refresh it in the background, so no visit waits for a computation."""
    plan = None if refresh else await stored_plan(conn, store_id=store_id)
    if plan is None or plan.months != months:
        fresh = await compute_plan(conn, store_id=store_id, today=today, months=months)
        return fresh, False
    return plan, datetime.now(UTC).replace(tzinfo=None) - plan.computed_at > MAX_AGE


_refreshing: set[str] = set()  # stores whose plan this process is recomputing


async def refresh_plan(engine: AsyncEngine, *, store_id: str, today: date, months: int) -> None:
    """Recompute a stale plan on a connection of its own (a background task)."""
    if store_id in _refreshing:
        return
    _refreshing.add(store_id)
    try:
        async with engine.begin() as conn:  # its own unit of work, after the response
            await compute_plan(conn, store_id=store_id, today=today, months=months)
    finally:
        _refreshing.discard(store_id)
