"""Receiving goods and adjusting stock: REST for integrations, a page for the manager."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.auth.deps import ManagerDep, Principal, require_scope
from pos_app.auth.roles import INVENTORY_WRITE
from pos_app.catalog.service import list_products
from pos_app.contract import StockAdjusted, StockReceived
from pos_app.db.unit_of_work import after_commit
from pos_app.deps import RelayDep, SettingsDep, TransactionDep
from pos_app.events.relay import OutboxRelay
from pos_app.i18n import gettext
from pos_app.inventory.movements import (
    AdjustmentIn,
    MovementRejected,
    ReceiptIn,
    recent_movements,
    record_adjustment,
    record_receipt,
)
from pos_app.problems import AUTHENTICATED, WITH_BODY, problems
from pos_app.security import csrf
from pos_app.settings import Settings
from pos_app.templating import render_page

router = APIRouter(tags=["inventory"], responses=problems(AUTHENTICATED, 422))
InventoryWriter = Annotated[Principal, Depends(require_scope(INVENTORY_WRITE))]
M = TypeVar("M", StockReceived, StockAdjusted)


@router.post(
    "/api/v1/inventory/receipts",
    status_code=status.HTTP_201_CREATED,
    response_model=StockReceived,
    responses=problems(WITH_BODY),
)
async def post_receipt(
    body: ReceiptIn,
    conn: TransactionDep,
    relay: RelayDep,
    settings: SettingsDep,
    principal: InventoryWriter,
) -> StockReceived:
    """Goods received: on hand goes up once the pipeline applies the event."""
    return await _record_movement(record_receipt, body, conn, relay, settings, principal)


@router.post(
    "/api/v1/inventory/adjustments",
    status_code=status.HTTP_201_CREATED,
    response_model=StockAdjusted,
    responses=problems(WITH_BODY),
)
async def post_adjustment(
    body: AdjustmentIn,
    conn: TransactionDep,
    relay: RelayDep,
    settings: SettingsDep,
    principal: InventoryWriter,
) -> StockAdjusted:
    """A count correction, damage, loss or find: quantities are signed changes."""
    return await _record_movement(record_adjustment, body, conn, relay, settings, principal)


async def _record_movement(
    record: Callable[..., Awaitable[M]],
    body: ReceiptIn | AdjustmentIn,
    conn: AsyncConnection,
    relay: OutboxRelay,
    settings: Settings,
    principal: Principal,
) -> M:
    try:
        event = await record(
            conn, body, settings=settings, user=principal.name, actor=principal.actor
        )
    except MovementRejected as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(error)) from None
    after_commit(conn, relay.wake)
    return event


@router.get("/manager/stock-movements", response_class=HTMLResponse, include_in_schema=False)
async def movements_page(
    request: Request, conn: TransactionDep, settings: SettingsDep, manager: ManagerDep
) -> HTMLResponse:
    return await _page(request, conn, settings, manager)


@router.post("/manager/stock-movements", response_class=HTMLResponse, include_in_schema=False)
async def movements_form(
    request: Request,
    conn: TransactionDep,
    relay: RelayDep,
    settings: SettingsDep,
    manager: ManagerDep,
) -> HTMLResponse:
    await csrf.require_token(request, settings.secret_key)
    form = await request.form()
    kind = form.get("kind")
    line = {"sku": form.get("sku", ""), "quantity": form.get("quantity", "")}
    try:
        if kind == "receipt":
            receipt = ReceiptIn.model_validate(
                {"supplier": str(form.get("supplier", "")), "lines": [line]}, strict=False
            )
            event: Any = await record_receipt(
                conn, receipt, settings=settings, user=manager.name, actor=manager.actor
            )
            message = gettext("Receipt %(id)s recorded.", id=event.receipt_id)
        elif kind == "adjustment":
            adjustment = AdjustmentIn.model_validate(
                {
                    "reason": str(form.get("reason", "")),
                    "note": str(form.get("note", "")),
                    "lines": [line],
                },
                strict=False,
            )
            event = await record_adjustment(
                conn, adjustment, settings=settings, user=manager.name, actor=manager.actor
            )
            message = gettext("Adjustment %(id)s recorded.", id=event.adjustment_id)
        else:
            raise MovementRejected(gettext("choose a receipt or an adjustment"))
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'] if not isinstance(p, int))}: {e['msg']}"
            for e in error.errors()
        )
        return await _page(request, conn, settings, manager, message=None, error=problems, code=422)
    except MovementRejected as error:
        return await _page(
            request, conn, settings, manager, message=None, error=str(error), code=422
        )
    after_commit(conn, relay.wake)
    return await _page(
        request,
        conn,
        settings,
        manager,
        message=message + " " + gettext("On hand changes as soon as the pipeline applies it."),
    )


async def _page(
    request: Request,
    conn: TransactionDep,
    settings: SettingsDep,
    manager: Principal,
    *,
    message: str | None = None,
    error: str | None = None,
    code: int = 200,
) -> HTMLResponse:
    response = render_page(
        request,
        "manager_stock_movements.html",
        {
            "products": await list_products(conn, store_id=settings.store_id),
            "movements": await recent_movements(conn, store_id=settings.store_id),
            "message": message,
            "error": error,
            "principal": manager,
        },
        settings=settings,
    )
    response.status_code = code
    return response
