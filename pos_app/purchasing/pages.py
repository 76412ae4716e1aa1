"""The manager's suppliers and purchase orders pages."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from pos_app.auth.deps import ManagerDep, Principal
from pos_app.catalog.pages import problems
from pos_app.catalog.service import list_products
from pos_app.db.unit_of_work import after_commit
from pos_app.deps import RelayDep, SettingsDep, TransactionDep
from pos_app.purchasing.service import (
    NO_ORDER,
    NOTHING_PLANNED,
    Order,
    PurchaseRejected,
    SupplierIn,
    cancel_order,
    create_order,
    get_order,
    list_orders,
    list_suppliers,
    order_store,
    place_order,
    plan_suggestions,
    receive_against,
    save_draft_lines,
    save_supplier,
)
from pos_app.security import csrf
from pos_app.settings import Settings
from pos_app.templating import render_page

router = APIRouter(include_in_schema=False)
NOT_A_NUMBER = "{field}: not a whole number"
NOT_MONEY = "{field}: not an amount in kyat"
RECEIVED_MESSAGE = "Receipt {receipt} recorded: on hand changes when the pipeline applies it."
CHOOSE_SUPPLIER = "choose a supplier"
ACTIONS = ("lines", "order", "cancel", "receive")


async def _form(request: Request, settings: Settings) -> dict[str, str]:
    await csrf.require_token(request, settings.secret_key)
    form = await request.form()
    return {k: str(v) for k, v in form.items() if k != "csrf_token"}


def _whole(text: str, field: str) -> int:
    try:
        return int(text.strip() or "0")
    except ValueError:
        raise PurchaseRejected(NOT_A_NUMBER.format(field=field)) from None


def _kyat(text: str, field: str) -> Decimal:
    try:
        value = Decimal(text.strip().replace(",", "") or "0")
    except InvalidOperation:
        raise PurchaseRejected(NOT_MONEY.format(field=field)) from None
    if value < 0 or value != value.to_integral_value():
        raise PurchaseRejected(NOT_MONEY.format(field=field))
    return value


async def _suppliers_page(
    request: Request,
    conn: TransactionDep,
    settings: Settings,
    manager: Principal,
    *,
    error: str | None = None,
    values: dict[str, str] | None = None,
    code: int = 200,
) -> HTMLResponse:
    response = render_page(
        request,
        "manager_suppliers.html",
        {
            "suppliers": await list_suppliers(conn),
            "error": error,
            "values": values or {},
            "principal": manager,
        },
        settings=settings,
    )
    response.status_code = code
    return response


@router.get("/manager/suppliers", response_class=HTMLResponse)
async def suppliers_page(
    request: Request, conn: TransactionDep, settings: SettingsDep, manager: ManagerDep
) -> HTMLResponse:
    return await _suppliers_page(request, conn, settings, manager)


@router.post("/manager/suppliers", response_class=HTMLResponse)
async def save_supplier_form(
    request: Request, conn: TransactionDep, settings: SettingsDep, manager: ManagerDep
) -> Response:
    """Add a supplier, or change one (`supplier_id` set)."""
    form = await _form(request, settings)
    fields = ("name", "phone", "viber", "lead_time_days", "notes")
    values = {f: form.get(f, "") for f in fields}
    try:
        body = SupplierIn.model_validate(
            {**values, "lead_time_days": values["lead_time_days"] or "7"}, strict=False
        )
        supplier_id = _whole(form.get("supplier_id", ""), "supplier_id") or None
        await save_supplier(conn, body, actor=manager.actor, supplier_id=supplier_id)
    except ValidationError as error:
        return await _suppliers_page(
            request, conn, settings, manager, error=problems(error), values=values, code=422
        )
    except PurchaseRejected as error:
        return await _suppliers_page(
            request, conn, settings, manager, error=str(error), values=values, code=409
        )
    return RedirectResponse("/manager/suppliers", status_code=status.HTTP_303_SEE_OTHER)


async def _orders_page(
    request: Request,
    conn: TransactionDep,
    settings: Settings,
    manager: Principal,
    *,
    error: str | None = None,
    code: int = 200,
) -> HTMLResponse:
    response = render_page(
        request,
        "manager_purchase_orders.html",
        {
            "orders": await list_orders(conn, store_id=settings.store_id),
            "suppliers": await list_suppliers(conn),
            "suggested": await plan_suggestions(conn, store_id=settings.store_id),
            "error": error,
            "principal": manager,
        },
        settings=settings,
    )
    response.status_code = code
    return response


@router.get("/manager/purchase-orders", response_class=HTMLResponse)
async def orders_page(
    request: Request, conn: TransactionDep, settings: SettingsDep, manager: ManagerDep
) -> HTMLResponse:
    return await _orders_page(request, conn, settings, manager)


@router.post("/manager/purchase-orders", response_class=HTMLResponse)
async def new_order(
    request: Request, conn: TransactionDep, settings: SettingsDep, manager: ManagerDep
) -> Response:
    """A draft from the refill plan's suggestions (`source=plan`) or with one line typed."""
    form = await _form(request, settings)
    try:
        supplier_id = _whole(form.get("supplier_id", ""), "supplier")
        if not supplier_id:
            raise PurchaseRejected(CHOOSE_SUPPLIER)
        if form.get("source") == "plan":
            lines = await plan_suggestions(conn, store_id=settings.store_id)
            if not lines:
                raise PurchaseRejected(NOTHING_PLANNED)
        else:
            sku = form.get("sku", "").strip().upper()
            lines = [(sku, _whole(form.get("quantity", ""), "quantity"))]
        po_id = await create_order(
            conn, supplier_id=supplier_id, lines=lines, settings=settings, actor=manager.actor
        )
    except PurchaseRejected as error:
        return await _orders_page(request, conn, settings, manager, error=str(error), code=422)
    return RedirectResponse(
        f"/manager/purchase-orders/{po_id}", status_code=status.HTTP_303_SEE_OTHER
    )


async def _order_page(
    request: Request,
    conn: TransactionDep,
    settings: Settings,
    manager: Principal,
    po_id: str,
    *,
    error: str | None = None,
    message: str | None = None,
    code: int = 200,
) -> HTMLResponse:
    try:
        order = await _this_stores(conn, po_id, settings)
    except LookupError as missing:
        return await _orders_page(request, conn, settings, manager, error=str(missing), code=404)
    response = render_page(
        request,
        "manager_purchase_order.html",
        {
            "order": order,
            "products": await list_products(conn, store_id=settings.store_id),
            "error": error,
            "message": message,
            "principal": manager,
        },
        settings=settings,
    )
    response.status_code = code
    return response


async def _this_stores(conn: TransactionDep, po_id: str, settings: Settings) -> Order:
    """The order if it is this store's: another store's order is no order here."""
    if await order_store(conn, po_id) != settings.store_id:
        raise LookupError(NO_ORDER.format(po_id=po_id))
    return await get_order(conn, po_id)


@router.get("/manager/purchase-orders/{po_id}", response_class=HTMLResponse)
async def order_page(
    po_id: str, request: Request, conn: TransactionDep, settings: SettingsDep, manager: ManagerDep
) -> HTMLResponse:
    """The order, printable; a draft's lines can be changed, an open order received."""
    return await _order_page(request, conn, settings, manager, po_id)


@router.post("/manager/purchase-orders/{po_id}/{action}", response_class=HTMLResponse)
async def order_action(
    po_id: str,
    action: str,
    request: Request,
    conn: TransactionDep,
    relay: RelayDep,
    settings: SettingsDep,
    manager: ManagerDep,
) -> Response:
    """`lines` (save a draft), `order`, `cancel`, `receive`."""
    form = await _form(request, settings)
    if action not in ACTIONS:
        error = f"unknown action {action}"
        return await _order_page(request, conn, settings, manager, po_id, error=error, code=404)
    message = None
    try:
        await _this_stores(conn, po_id, settings)
        # A savepoint: a refused step undoes the steps before it (the page still answers).
        async with conn.begin_nested():
            if action == "lines":
                changes: dict[int, tuple[int, Decimal]] = {}
                for key, value in form.items():
                    if key.startswith("qty_"):
                        n = _whole(key[4:], "line")
                        cost = _kyat(form.get(f"cost_{n}", "0"), f"line {n} cost")
                        changes[n] = (_whole(value, f"line {n} quantity"), cost)
                new_line: tuple[str, int, Decimal | None] | None = None
                if form.get("new_sku", "").strip():
                    typed = form.get("new_cost", "").strip()
                    new_line = (
                        form["new_sku"].strip().upper(),
                        _whole(form.get("new_quantity", ""), "quantity"),
                        _kyat(typed, "cost") if typed else None,
                    )
                await save_draft_lines(
                    conn, po_id, changes=changes, new_line=new_line, actor=manager.actor
                )
            elif action == "order":
                await place_order(conn, po_id, today=settings.today(), actor=manager.actor)
            elif action == "cancel":
                await cancel_order(conn, po_id, actor=manager.actor)
            else:
                received = {
                    _whole(key[8:], "line"): _whole(value, f"line {key[8:]} received")
                    for key, value in form.items()
                    if key.startswith("receive_")
                }
                event = await receive_against(
                    conn,
                    po_id,
                    received,
                    allow_over=form.get("allow_over") == "on",
                    settings=settings,
                    user=manager.name,
                    actor=manager.actor,
                )
                after_commit(conn, relay.wake)
                message = RECEIVED_MESSAGE.format(receipt=event.receipt_id)
    except LookupError as missing:
        return await _orders_page(request, conn, settings, manager, error=str(missing), code=404)
    except PurchaseRejected as error:
        return await _order_page(
            request, conn, settings, manager, po_id, error=str(error), code=422
        )
    return await _order_page(request, conn, settings, manager, po_id, message=message)
