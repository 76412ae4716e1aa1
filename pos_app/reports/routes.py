from __future__ import annotations

import dataclasses
from datetime import UTC
from decimal import Decimal
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse

from pos_app.alerts.service import acknowledge
from pos_app.auth.deps import ManagerDep, require_scope
from pos_app.auth.roles import REPORTS_READ
from pos_app.auth.service import audit
from pos_app.deps import ConnectionDep, SettingsDep
from pos_app.reports.charts import BarChart, grouped_columns, horizontal_bars
from pos_app.reports.service import Dashboard, SalesSummary, dashboard, sales_summary
from pos_app.reports.today import Today, today_report
from pos_app.security import csrf
from pos_app.settings import Settings
from pos_app.templating import render_page, templates

router = APIRouter()
reports_api = [Depends(require_scope(REPORTS_READ))]
Year = Annotated[int | None, Query(ge=2000, le=2100)]
Month = Annotated[int | None, Query(ge=1, le=12)]
Day = Annotated[int | None, Query(ge=1, le=31, description="needs month")]
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@router.get(
    "/api/v1/reports/summary",
    response_model=SalesSummary,
    tags=["reports"],
    dependencies=reports_api,
)
async def get_summary(
    conn: ConnectionDep,
    settings: SettingsDep,
    store_id: str | None = None,
    top: Annotated[int, Query(ge=1, le=100)] = 10,
) -> SalesSummary:
    """Totals, sales by year and month, and the best products by revenue and units."""
    return await sales_summary(conn, store_id=store_id or settings.store_id, top=top)


@router.get(
    "/api/v1/reports/dashboard",
    response_model=Dashboard,
    tags=["reports"],
    dependencies=reports_api,
)
async def get_dashboard(
    conn: ConnectionDep,
    settings: SettingsDep,
    store_id: str | None = None,
    year: Year = None,
    month: Month = None,
    day: Day = None,
) -> Dashboard:
    """Sales of a year, month or day; the year's months beside the year before; the best
    products; stock against units sold."""
    return await _dashboard(conn, settings, store_id, year, month, day)


@router.get("/manager/dashboard", response_class=HTMLResponse, include_in_schema=False)
async def dashboard_page(
    request: Request,
    conn: ConnectionDep,
    settings: SettingsDep,
    manager: ManagerDep,
    year: Year = None,
    month: Month = None,
    day: Day = None,
) -> HTMLResponse:
    data = await _dashboard(conn, settings, None, year, month, day)
    by_month = grouped_columns(
        "Sales by month",
        MONTHS,
        [[m.revenue for m in data.months], [m.revenue_last_year for m in data.months]],
    )
    by_product = horizontal_bars(
        "Best products by revenue", [(p.product, p.revenue) for p in data.products]
    )
    stock = horizontal_bars(
        "Units sold (bar) and on hand", [(s.name, Decimal(s.sold)) for s in data.stock_against_sold]
    )
    return render_page(
        request,
        "manager_dashboard.html",
        {
            "data": data,
            "by_month": by_month,
            "by_product": by_product,
            "stock": stock,
            "months": MONTHS,
            "principal": manager,
        },
        settings=settings,
    )


async def _dashboard(
    conn: ConnectionDep,
    settings: Settings,
    store_id: str | None,
    year: int | None,
    month: int | None,
    day: int | None,
) -> Dashboard:
    if day is not None and month is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail="a day needs a month")
    try:
        return await dashboard(
            conn,
            store_id=store_id or settings.store_id,
            year=year,
            month=month,
            day=day,
            default_year=settings.today().year,
        )
    except ValueError as error:  # 30 February and the like
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(error)) from None


# --- Today: the day as the pipeline stores it ----------------------------------------
#
# The page polls a partial every 2 s with htmx rather than holding a server-sent-events
# stream: it is simpler (no connection per phone to keep open, no reconnect logic), it
# passes through any proxy, and a sale takes a second or more through the outbox, Kafka
# and Spark anyway, so pushing would not show it noticeably sooner.


@router.get(
    "/api/v1/reports/today",
    response_model=Today,
    tags=["reports"],
    dependencies=reports_api,
)
async def get_today(conn: ConnectionDep, settings: SettingsDep) -> Today:
    """Today so far (net of returns) beside the same weekday last week up to the same
    time, today by hour, the last 20 sales, open stock alerts and the pipeline's lag:
    all as the stream job has stored them. Money as decimal strings."""
    return await today_report(conn, settings=settings)


def _hour_chart(data: Today) -> BarChart:
    chart = grouped_columns(
        "Today by hour",
        [f"{h.hour:02d}" for h in data.by_hour],
        [[h.revenue for h in data.by_hour], [h.revenue_last_week for h in data.by_hour]],
        height=200,
    )
    # Every third hour labelled, so the labels stay legible on a phone.
    return dataclasses.replace(chart, labels=chart.labels[::3])


async def _today_context(
    request: Request, conn: ConnectionDep, settings: Settings
) -> dict[str, Any]:
    data = await today_report(conn, settings=settings)
    zone = ZoneInfo(settings.shop_timezone)
    token, _ = csrf.page_token(request, settings.secret_key)
    return {
        "data": data,
        "chart": _hour_chart(data),
        "raised": {
            a.alert_id: a.raised_at.replace(tzinfo=UTC).astimezone(zone).strftime("%H:%M")
            for a in data.open_alerts
        },
        "settings": settings,
        "csrf_token": token,
    }


@router.get("/manager/today", response_class=HTMLResponse, include_in_schema=False)
async def today_page(
    request: Request, conn: ConnectionDep, settings: SettingsDep, manager: ManagerDep
) -> HTMLResponse:
    context = await _today_context(request, conn, settings)
    return render_page(
        request, "manager_today.html", {**context, "principal": manager}, settings=settings
    )


@router.get("/manager/today/live", response_class=HTMLResponse, include_in_schema=False)
async def today_live(
    request: Request, conn: ConnectionDep, settings: SettingsDep, _: ManagerDep
) -> HTMLResponse:
    """The part of the page the browser polls."""
    context = await _today_context(request, conn, settings)
    return templates.TemplateResponse(request, "_today.html", context)


@router.post("/manager/today/alerts/{alert_id}/acknowledge", include_in_schema=False)
async def today_acknowledge(
    alert_id: int,
    request: Request,
    conn: ConnectionDep,
    settings: SettingsDep,
    manager: ManagerDep,
) -> Response:
    """The Acknowledge button: htmx gets the refreshed view back, a plain form a redirect."""
    await csrf.require_token(request, settings.secret_key)
    done = await acknowledge(conn, alert_id, by=manager.name)
    if done is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no alert {alert_id}")
    if done:
        await audit(
            conn, actor=manager.actor, action="alert.acknowledged", target=f"alert:{alert_id}"
        )
    await conn.commit()
    if request.headers.get("HX-Request"):
        return await today_live(request, conn, settings, manager)
    return RedirectResponse("/manager/today", status_code=status.HTTP_303_SEE_OTHER)
