from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from pos_app.auth.deps import ManagerDep, Principal, require_scope
from pos_app.auth.roles import INVENTORY_WRITE, STOCK_READ
from pos_app.auth.service import audit
from pos_app.deps import SettingsDep, TransactionDep
from pos_app.inventory.service import (
    LowStockRow,
    LowStockSort,
    StockLevel,
    low_stock,
    set_reorder_point,
    stock_levels,
)
from pos_app.problems import AUTHENTICATED, OTHER_STORE, problems
from pos_app.reports.export import CSV_RESPONSE, csv_response, wants_csv
from pos_app.security import csrf
from pos_app.templating import render_page

router = APIRouter(tags=["inventory"], responses=problems(AUTHENTICATED, 422))
StockReader = Annotated[Principal, Depends(require_scope(STOCK_READ))]
InventoryWriter = Annotated[Principal, Depends(require_scope(INVENTORY_WRITE))]
Order = Literal["asc", "desc"]
CSV_COLUMNS = (
    "sku",
    "name",
    "on_hand",
    "reorder_point",
    "sold_last_28_days",
    "avg_daily_sales",
    "days_of_cover",
    "runs_out_on",
)


@router.get("/api/v1/stock", response_model=list[StockLevel], responses=problems(OTHER_STORE))
async def get_stock(
    conn: TransactionDep,
    settings: SettingsDep,
    who: StockReader,
    store_id: str | None = None,
    alerts: bool = Query(False, description="only SKUs at or under their reorder point"),
) -> list[StockLevel]:
    return await stock_levels(conn, store_id=who.store(store_id, settings), only_alerts=alerts)


@router.get(
    "/api/v1/stock/low",
    response_model=list[LowStockRow],
    responses={**CSV_RESPONSE, **problems(OTHER_STORE)},
)
async def get_low_stock(
    request: Request,
    conn: TransactionDep,
    settings: SettingsDep,
    who: StockReader,
    store_id: str | None = None,
    sort: LowStockSort = "days_of_cover",
    order: Order = "asc",
) -> list[LowStockRow] | Response:
    """SKUs at or under their reorder point, with the average daily sales of the last 28
    days, the days of cover and the date they run out at that rate. `Accept: text/csv`
    for CSV (as /api/v1/stock/low.csv)."""
    rows = await low_stock(
        conn,
        store_id=who.store(store_id, settings),
        today=settings.today(),
        sort=sort,
        descending=order == "desc",
    )
    if wants_csv(request):
        return _csv(rows, settings.today().isoformat())
    return rows


@router.get("/api/v1/stock/low.csv", response_class=Response, responses=problems(OTHER_STORE))
async def get_low_stock_csv(
    conn: TransactionDep, settings: SettingsDep, who: StockReader, store_id: str | None = None
) -> Response:
    rows = await low_stock(conn, store_id=who.store(store_id, settings), today=settings.today())
    return _csv(rows, settings.today().isoformat())


class ReorderPointIn(BaseModel):
    reorder_point: int = Field(ge=0, le=100_000)


@router.get("/manager/low-stock", response_class=HTMLResponse, include_in_schema=False)
async def low_stock_page(
    request: Request,
    conn: TransactionDep,
    settings: SettingsDep,
    manager: ManagerDep,
    sort: LowStockSort = "days_of_cover",
    order: Order = "asc",
) -> HTMLResponse:
    rows = await low_stock(
        conn,
        store_id=settings.store_id,
        today=settings.today(),
        sort=sort,
        descending=order == "desc",
    )
    return render_page(
        request,
        "manager_low_stock.html",
        {"rows": rows, "sort": sort, "order": order, "principal": manager},
        settings=settings,
    )


@router.get("/manager/low-stock.csv", include_in_schema=False)
async def low_stock_csv_page(
    conn: TransactionDep, settings: SettingsDep, _: ManagerDep
) -> Response:
    rows = await low_stock(conn, store_id=settings.store_id, today=settings.today())
    return _csv(rows, settings.today().isoformat())


@router.post("/manager/products/{sku}/reorder-point", include_in_schema=False)
async def reorder_point_form(
    sku: str, request: Request, conn: TransactionDep, settings: SettingsDep, manager: ManagerDep
) -> Response:
    await csrf.require_token(request, settings.secret_key)
    form = await request.form()
    try:
        value = ReorderPointIn(reorder_point=int(str(form.get("reorder_point", "")))).reorder_point
    except ValueError:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail="the reorder point must be a whole number from 0",
        ) from None
    await _change_reorder_point(conn, sku=sku, value=value, by=manager)
    return RedirectResponse("/manager/low-stock", status_code=status.HTTP_303_SEE_OTHER)


async def _change_reorder_point(
    conn: TransactionDep, *, sku: str, value: int, by: Principal
) -> None:
    previous = await set_reorder_point(conn, sku=sku, reorder_point=value)
    if previous is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no product with SKU {sku}")
    await audit(
        conn,
        actor=by.actor,
        action="product.reorder_point_changed",
        target=f"product:{sku}",
        details={"from": previous, "to": value},
    )


def _csv(rows: list[LowStockRow], day: str) -> Response:
    return csv_response(
        CSV_COLUMNS,
        ([getattr(row, c) for c in CSV_COLUMNS] for row in rows),
        f"low-stock-{day}.csv",
    )
