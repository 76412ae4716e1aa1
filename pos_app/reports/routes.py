from __future__ import annotations

import dataclasses
from datetime import UTC, date
from decimal import Decimal
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse

from pos_app.alerts.flows import acknowledge_alert
from pos_app.api_types import IsoDate
from pos_app.auth.deps import ManagerDep, Principal, require_scope
from pos_app.auth.roles import REPORTS_READ
from pos_app.deps import SettingsDep, TransactionDep
from pos_app.i18n import current_locale, gettext
from pos_app.i18n.formatting import short_months
from pos_app.money import kyat
from pos_app.problems import AUTHENTICATED, OTHER_STORE, problems
from pos_app.reports.charts import BarChart, grouped_columns, heat_map, horizontal_bars
from pos_app.reports.export import CSV_RESPONSE, csv_response, wants_csv
from pos_app.reports.service import (
    Dashboard,
    Granularity,
    Ranking,
    SalesReport,
    SalesSummary,
    TopProducts,
    dashboard,
    sales_report,
    sales_summary,
    top_products,
    top_products_by_month,
)
from pos_app.reports.today import Today, today_report
from pos_app.security import csrf
from pos_app.settings import Settings
from pos_app.templating import render_page, templates

router = APIRouter(responses=problems(AUTHENTICATED, 422))
reports_reader = require_scope(REPORTS_READ)
reports_api = [Depends(reports_reader)]
ReportsReader = Annotated[Principal, Depends(reports_reader)]
Year = Annotated[int | None, Query(ge=2000, le=2100)]
Month = Annotated[int | None, Query(ge=1, le=12)]
Day = Annotated[int | None, Query(ge=1, le=31, description="needs month")]
Store = Annotated[
    str | None,
    Query(max_length=40, description="a store id; all the caller's stores when absent"),
]
DateFrom = Annotated[IsoDate | None, Query(alias="from", description="first day (ISO)")]
DateTo = Annotated[IsoDate | None, Query(alias="to", description="last day (ISO)")]


def check_range(start: date | None, end: date | None) -> None:
    """A from..to range of days must not run backwards (422)."""
    if start is not None and end is not None and start > end:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, detail=f"from ({start}) is after to ({end})"
        )


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@router.get(
    "/api/v1/reports/summary",
    response_model=SalesSummary,
    responses=problems(OTHER_STORE),
    tags=["reports"],
)
async def get_summary(
    conn: TransactionDep,
    settings: SettingsDep,
    who: ReportsReader,
    store_id: str | None = None,
    top: Annotated[int, Query(ge=1, le=100)] = 10,
) -> SalesSummary:
    """Totals, sales by year and month, and the best products by revenue and units."""
    return await sales_summary(conn, store_id=who.store(store_id, settings), top=top)


@router.get(
    "/api/v1/reports/dashboard",
    response_model=Dashboard,
    responses=problems(OTHER_STORE),
    tags=["reports"],
)
async def get_dashboard(
    conn: TransactionDep,
    settings: SettingsDep,
    who: ReportsReader,
    store_id: str | None = None,
    year: Year = None,
    month: Month = None,
    day: Day = None,
) -> Dashboard:
    """Sales of a year, month or day; the year's months beside the year before; the best
    products; stock against units sold."""
    return await _dashboard(conn, settings, who.store(store_id, settings), year, month, day)


@router.get("/manager/dashboard", response_class=HTMLResponse, include_in_schema=False)
async def dashboard_page(
    request: Request,
    conn: TransactionDep,
    settings: SettingsDep,
    manager: ManagerDep,
    year: Year = None,
    month: Month = None,
    day: Day = None,
) -> HTMLResponse:
    data = await _dashboard(conn, settings, None, year, month, day)
    by_month = grouped_columns(
        gettext("Sales by month"),
        short_months(current_locale()),
        [[m.revenue for m in data.months], [m.revenue_last_year for m in data.months]],
    )
    by_product = horizontal_bars(
        gettext("Best products by revenue"), [(p.product, p.revenue) for p in data.products]
    )
    stock = horizontal_bars(
        gettext("Units sold (bar) and on hand"),
        [(s.name, Decimal(s.sold)) for s in data.stock_against_sold],
    )
    return render_page(
        request,
        "manager_dashboard.html",
        {
            "data": data,
            "by_month": by_month,
            "by_product": by_product,
            "stock": stock,
            "months": short_months(current_locale()),
            "principal": manager,
        },
        settings=settings,
    )


async def _dashboard(
    conn: TransactionDep,
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


# --- Sales by period and top products ---------------------------------------------------


@router.get(
    "/api/v1/reports/sales",
    response_model=SalesReport,
    responses={**CSV_RESPONSE, **problems(OTHER_STORE)},
    tags=["reports"],
)
async def get_sales(
    request: Request,
    conn: TransactionDep,
    settings: SettingsDep,
    who: ReportsReader,
    granularity: Granularity = "month",
    date_from: DateFrom = None,
    date_to: DateTo = None,
    store: Store = None,
) -> SalesReport | Response:
    """Revenue, units, sales and lines per year, month or day over the days from..to
    (both inclusive; all days when absent), for one store or all. `Accept: text/csv`
    for CSV."""
    check_range(date_from, date_to)
    report = await sales_report(
        conn,
        granularity=granularity,
        start=date_from,
        end=date_to,
        store=store and who.store(store, settings),
        among=who.stores,
    )
    if wants_csv(request):
        return csv_response(
            ("period", "start", "revenue", "units", "sales", "lines", "margin"),
            (
                (p.period, p.start, p.revenue, p.units, p.sales, p.lines, p.margin)
                for p in report.periods
            ),
            f"sales-by-{granularity}.csv",
        )
    return report


@router.get(
    "/api/v1/reports/top-products",
    response_model=TopProducts,
    responses={**CSV_RESPONSE, **problems(OTHER_STORE)},
    tags=["reports"],
)
async def get_top_products(
    request: Request,
    conn: TransactionDep,
    settings: SettingsDep,
    who: ReportsReader,
    year: Year = None,
    month: Annotated[int | None, Query(ge=1, le=12, description="needs year")] = None,
    by: Ranking = "revenue",
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    store: Store = None,
) -> TopProducts | Response:
    """The best products of a year, a month or all time, by revenue or units. Ties go
    to the other measure, then to the SKU (A before B). `Accept: text/csv` for CSV."""
    if month is not None and year is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail="a month needs a year")
    top = await top_products(
        conn,
        year=year,
        month=month,
        by=by,
        limit=limit,
        store=store and who.store(store, settings),
        among=who.stores,
    )
    if wants_csv(request):
        return csv_response(
            ("rank", "sku", "product", "units", "revenue", "margin"),
            ((p.rank, p.sku, p.product, p.units, p.revenue, p.margin) for p in top.products),
            "top-products.csv",
        )
    return top


TOP_PER_MONTH = 5


@router.get("/manager/top-products", response_class=HTMLResponse, include_in_schema=False)
async def top_products_page(
    request: Request,
    conn: TransactionDep,
    settings: SettingsDep,
    manager: ManagerDep,
    year: Year = None,
) -> HTMLResponse:
    """Each month's best products as a heat map (products x months, cell = revenue) and
    a table, for one year of the shop's own store."""
    tops = await top_products_by_month(
        conn,
        year=year,
        store=settings.store_id,
        top=TOP_PER_MONTH,
        default_year=settings.today().year,
    )
    months = short_months(current_locale())
    chart = heat_map(
        gettext(
            "Revenue of each month's top %(n)s products, %(year)s", n=TOP_PER_MONTH, year=tops.year
        ),
        [(c.sku, c.product) for c in tops.columns],
        months,
        tops.cells,
        money=kyat,
    )
    return render_page(
        request,
        "manager_top_products.html",
        {"tops": tops, "chart": chart, "months": months, "principal": manager},
        settings=settings,
    )


# --- Today: the day as the pipeline stores it ----------------------------------------
#
# The page fetches its partial again when /live/events pushes `changed` (pos_app/live):
# the pipeline now stores a sale in well under a second, and a 2 s poll added up to 2 s
# more; one watcher per process keeps open pages from each polling MySQL. A slow poll
# (`live_fallback_poll_seconds`) stays for when the stream is cut.


@router.get(
    "/api/v1/reports/today",
    response_model=Today,
    tags=["reports"],
    dependencies=reports_api,
)
async def get_today(conn: TransactionDep, settings: SettingsDep) -> Today:
    """Today so far (net of returns) beside the same weekday last week up to the same
    time, today by hour, the last 20 sales, open stock alerts and the pipeline's lag:
    all as the stream job has stored them. Money as decimal strings."""
    return await today_report(conn, settings=settings)


def _hour_chart(data: Today) -> BarChart:
    chart = grouped_columns(
        gettext("Today by hour"),
        [f"{h.hour:02d}" for h in data.by_hour],
        [[h.revenue for h in data.by_hour], [h.revenue_last_week for h in data.by_hour]],
        height=200,
    )
    # Every third hour labelled, so the labels stay legible on a phone.
    return dataclasses.replace(chart, labels=chart.labels[::3])


async def _today_context(
    request: Request, conn: TransactionDep, settings: Settings
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
    request: Request, conn: TransactionDep, settings: SettingsDep, manager: ManagerDep
) -> HTMLResponse:
    context = await _today_context(request, conn, settings)
    return render_page(
        request, "manager_today.html", {**context, "principal": manager}, settings=settings
    )


@router.get("/manager/today/live", response_class=HTMLResponse, include_in_schema=False)
async def today_live(
    request: Request, conn: TransactionDep, settings: SettingsDep, _: ManagerDep
) -> HTMLResponse:
    """The part of the page the browser polls."""
    context = await _today_context(request, conn, settings)
    return templates.TemplateResponse(request, "_today.html", context)


@router.post("/manager/today/alerts/{alert_id}/acknowledge", include_in_schema=False)
async def today_acknowledge(
    alert_id: int,
    request: Request,
    conn: TransactionDep,
    settings: SettingsDep,
    manager: ManagerDep,
) -> Response:
    """The Acknowledge button: htmx gets the refreshed view back, a plain form a redirect."""
    await csrf.require_token(request, settings.secret_key)
    if (
        await acknowledge_alert(
            conn, alert_id, by=manager.name, actor=manager.actor, stores=manager.stores
        )
        is None
    ):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no alert {alert_id}")
    if request.headers.get("HX-Request"):
        return await today_live(request, conn, settings, manager)
    return RedirectResponse("/manager/today", status_code=status.HTTP_303_SEE_OTHER)
