"""The refill plan for managers: REST (JSON or CSV) and a page with a chart."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, Response

from pos_app.auth.deps import ManagerDep, Principal, require_scope
from pos_app.auth.roles import REPORTS_READ
from pos_app.db.unit_of_work import hold_named_lock
from pos_app.deps import EngineDep, SettingsDep, TransactionDep
from pos_app.i18n import N_, current_locale, gettext
from pos_app.i18n.formatting import short_months
from pos_app.planning.forecast import MONTH_NAMES
from pos_app.planning.service import (
    MAX_MONTHS,
    RefillPlan,
    current_plan,
    refresh_plan,
    store_exists,
    stored_plan,
)
from pos_app.problems import AUTHENTICATED, problems
from pos_app.purchasing.service import expected_arrivals, on_order
from pos_app.reports.charts import grouped_columns
from pos_app.reports.export import CSV_RESPONSE, csv_response, wants_csv
from pos_app.settings import Settings
from pos_app.templating import render_page

router = APIRouter(responses=problems(AUTHENTICATED, 422))
Months = Annotated[int, Query(ge=1, le=MAX_MONTHS, description="months ahead, after this one")]
# The plan's columns, in order, as the page heads them; the page and the CSV both follow
# this list (the page shows the SKU inside the product cell, the CSV in a column of its own).
PLAN_COLUMNS: tuple[tuple[str, str], ...] = (
    ("month", N_("Month")),
    ("product", N_("Product")),
    ("forecast_units", N_("Forecast")),
    ("expected_start_stock", N_("Expected at start")),
    ("safety_stock", N_("Safety")),
    ("suggested_order", N_("Order")),
    ("reason", N_("Why")),
)
CSV_COLUMNS = ("month", "sku", *(field for field, _ in PLAN_COLUMNS[1:]))


@router.get(
    "/api/v1/reports/refill-plan",
    response_model=RefillPlan,
    responses=CSV_RESPONSE | problems(404),
    tags=["reports"],
)
async def get_refill_plan(
    request: Request,
    tasks: BackgroundTasks,
    conn: TransactionDep,
    engine: EngineDep,
    settings: SettingsDep,
    who: Annotated[Principal, Depends(require_scope(REPORTS_READ))],
    months: Months = 3,
    store: Annotated[
        str | None, Query(max_length=40, description="a store id; the shop's own when absent")
    ] = None,
    refresh: Annotated[bool, Query(description="recompute even if the plan is fresh")] = False,
) -> RefillPlan | Response:
    """Forecast units, expected stock at the start of each month, safety stock and the
    suggested order per product for each of the next `months` months, with the method's
    backtest error beside the same-month-last-year baseline. Recomputed from the raw
    sales when older than 10 minutes. `refresh=true` recomputes now, at most once a
    minute per store (else 429 with Retry-After). `Accept: text/csv` for the rows as CSV."""
    if refresh:
        await _may_refresh(
            conn, who.store(store, settings), timedelta(seconds=settings.refill_refresh_seconds)
        )
    plan = await _plan(conn, engine, settings, tasks, who.store(store, settings), months, refresh)
    if wants_csv(request):
        return csv_response(
            CSV_COLUMNS,
            ([r.month.isoformat(), *(getattr(r, c) for c in CSV_COLUMNS[1:])] for r in plan.rows),
            f"refill-plan-{plan.store_id}.csv",
        )
    return plan


@router.get("/manager/refill-plan", response_class=HTMLResponse, include_in_schema=False)
async def refill_plan_page(
    request: Request,
    tasks: BackgroundTasks,
    conn: TransactionDep,
    engine: EngineDep,
    settings: SettingsDep,
    manager: ManagerDep,
    months: Months = 3,
) -> HTMLResponse:
    plan = await _plan(conn, engine, settings, tasks, settings.store_id, months, False)
    plan_months = sorted({r.month for r in plan.rows})
    short = short_months(current_locale())
    labels = [f"{short[m.month - 1]} {m.year}" for m in plan_months]
    totals = [
        [Decimal(sum(getattr(r, field) for r in plan.rows if r.month == m)) for m in plan_months]
        for field in ("forecast_units", "suggested_order")
    ]
    chart = grouped_columns(gettext("Units by month: forecast and suggested order"), labels, totals)
    to_order = [r for r in plan.rows if r.suggested_order > 0]
    return render_page(
        request,
        "manager_refill_plan.html",
        {
            "plan": plan,
            "chart": chart,
            "to_order": to_order,
            "on_order": await on_order(conn, store_id=settings.store_id),
            "arrivals": await expected_arrivals(conn, store_id=settings.store_id),
            "month_names": MONTH_NAMES,
            "plan_columns": PLAN_COLUMNS,
            "max_months": MAX_MONTHS,
            "principal": manager,
        },
        settings=settings,
    )


async def _may_refresh(conn: TransactionDep, store_id: str, every: timedelta) -> None:
    """A forced recomputation reads every sale of the store: one at a time, and not again
    within `every` of the last, so repeated refreshes cannot tie up the database."""
    if not await hold_named_lock(conn, f"pos-refill-refresh:{store_id}", timeout_seconds=0):
        raise _too_soon(every)
    plan = await stored_plan(conn, store_id=store_id)
    if plan is not None:
        age = datetime.now(UTC).replace(tzinfo=None) - plan.computed_at
        if age < every:
            raise _too_soon(every - age)


def _too_soon(wait: timedelta) -> HTTPException:
    seconds = max(1, math.ceil(wait.total_seconds()))
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        detail=f"the plan was just computed: refresh again in {seconds} s",
        headers={"Retry-After": str(seconds)},
    )


async def _plan(
    conn: TransactionDep,
    engine: EngineDep,
    settings: Settings,
    tasks: BackgroundTasks,
    store_id: str,
    months: int,
    refresh: bool,
) -> RefillPlan:
    """The stored plan; a stale one is answered now and recomputed after the response."""
    if not await store_exists(conn, store_id=store_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no store {store_id!r}")
    today = settings.today()
    plan, stale = await current_plan(
        conn, store_id=store_id, today=today, months=months, refresh=refresh
    )
    if stale:
        tasks.add_task(refresh_plan, engine, store_id=store_id, today=today, months=months)
    return plan
