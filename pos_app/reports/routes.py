from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse

from pos_app.auth.deps import ManagerDep, require_scope
from pos_app.auth.roles import REPORTS_READ
from pos_app.deps import ConnectionDep, SettingsDep
from pos_app.reports.charts import grouped_columns, horizontal_bars
from pos_app.reports.service import Dashboard, SalesSummary, dashboard, sales_summary
from pos_app.settings import Settings
from pos_app.templating import render_page

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
