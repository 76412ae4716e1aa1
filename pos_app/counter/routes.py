"""The counter page (plain for now): ring up a sale, see stock move."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from pos_app.auth.deps import CashierDep
from pos_app.catalog.service import list_products
from pos_app.deps import ConnectionDep, RelayDep, SettingsDep
from pos_app.inventory.service import stock_levels
from pos_app.sales.schemas import PaymentIn, SaleIn, SaleLineIn
from pos_app.sales.service import SaleRejected, record_sale
from pos_app.security import csrf
from pos_app.templating import render_page, templates

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def counter_page(
    request: Request, conn: ConnectionDep, settings: SettingsDep, cashier: CashierDep
) -> HTMLResponse:
    products = await list_products(conn)
    stock = {s.sku: s for s in await stock_levels(conn, store_id=settings.store_id)}
    return render_page(
        request,
        "counter.html",
        {"products": products, "stock": stock, "cashier": cashier},
        settings=settings,
    )


@router.get("/counter/stock", response_class=HTMLResponse)
async def stock_partial(
    request: Request, conn: ConnectionDep, settings: SettingsDep, _: CashierDep
) -> HTMLResponse:
    stock = await stock_levels(conn, store_id=settings.store_id)
    return templates.TemplateResponse(request, "_stock_table.html", {"stock": stock})


@router.post("/counter/sale", response_class=HTMLResponse)
async def counter_sale(
    request: Request,
    conn: ConnectionDep,
    relay: RelayDep,
    settings: SettingsDep,
    cashier: CashierDep,
) -> HTMLResponse:
    await csrf.require_token(request, settings.secret_key)
    form = await request.form()
    try:
        lines = [
            SaleLineIn(sku=key.removeprefix("qty_"), quantity=int(str(value)))
            for key, value in form.items()
            if key.startswith("qty_") and str(value).strip() not in ("", "0")
        ]
        if not lines:
            raise SaleRejected("the cart is empty: enter a quantity for at least one product")
        sale = SaleIn(lines=lines, payment=PaymentIn(method="cash"), cashier=cashier.name)
        recorded = await record_sale(conn, sale, settings=settings, client=cashier.actor)
    except (SaleRejected, ValidationError, ValueError) as error:
        message = error.errors()[0]["msg"] if isinstance(error, ValidationError) else str(error)
        return templates.TemplateResponse(
            request, "_error.html", {"message": message}, status_code=422
        )
    relay.wake()
    return templates.TemplateResponse(
        request, "_receipt.html", {"sale": recorded.event, "settings": settings}, status_code=201
    )
