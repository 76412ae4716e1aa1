"""The counter: find products, build a cart, take payment, print a receipt.

The cart lives on the server (pos_app/counter/cart.py); every action posts a small
form with htmx and gets the re-rendered cart panel back, so the page needs no
client-side state and works from the keyboard alone."""

from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.alerts.service import list_alerts
from pos_app.auth.deps import CashierDep, Principal
from pos_app.auth.pins import PinRefused, approver_at
from pos_app.auth.roles import Role, role_allows
from pos_app.catalog.service import Product, list_products, products_by_sku, sold_at
from pos_app.counter import cart as carts
from pos_app.counter.flows import (
    CounterPayment,
    checkout,
    counter_return,
    discount_cart,
    price_cart,
    refund_approval,
)
from pos_app.counter.receipt_routes import receipt_extras
from pos_app.counter.receipts import find_sale, todays_sales
from pos_app.db.tables import products
from pos_app.db.unit_of_work import after_commit
from pos_app.deps import EngineDep, RelayDep, SettingsDep, TransactionDep
from pos_app.i18n import gettext
from pos_app.i18n.zawgyi import search_forms
from pos_app.inventory.service import StockLevel, stock_levels
from pos_app.returns.flows import exchange
from pos_app.returns.schemas import ReturnIn, ReturnLineIn, SaleDetail
from pos_app.returns.service import ReturnRejected
from pos_app.returns.service import find_sale as find_returnable
from pos_app.sales.schemas import PAYMENT_METHODS, SaleIn, SaleLineIn
from pos_app.sales.service import (
    IdempotencyConflict,
    SaleRejected,
    check_discount,
    discount_limit,
    sale_event,
)
from pos_app.security import csrf
from pos_app.settings import Settings
from pos_app.shop_tax import with_shop_tax
from pos_app.templating import render_page, templates
from pos_app.till.service import current_shift

router = APIRouter(include_in_schema=False)


SIZE_ORDER = {size: rank for rank, size in enumerate(("XS", "S", "M", "L", "XL", "XXL"))}
SUFFIX = re.compile(r"\s*\([^)]*\)$")  # "Taikpon Jacket Black (M)" -> its size


def _size_key(product: Product) -> tuple[int, float, str]:
    size = product.size or ""
    digits = re.match(r"\d+(\.\d+)?", size)
    return (SIZE_ORDER.get(size.upper(), 99), float(digits.group()) if digits else 0.0, size)


def variant_families(items: list[Product]) -> dict[str, list[tuple[str, list[Product]]]]:
    """Category -> [(family name, its size variants)]: "Taikpon Jacket Black (M)" and
    "(L)" share a tile with one button per size, smallest first."""
    grouped: dict[str, dict[str, list[Product]]] = defaultdict(dict)
    for product in items:
        grouped[product.category].setdefault(SUFFIX.sub("", product.name), []).append(product)
    return {
        category: [(name, sorted(variants, key=_size_key)) for name, variants in families.items()]
        for category, families in grouped.items()
    }


async def _stock(conn: AsyncConnection, settings: Settings) -> dict[str, StockLevel]:
    return {
        s.sku: s for s in await stock_levels(conn, store_id=settings.store_id, on_sale_only=True)
    }


@router.get("/", response_class=HTMLResponse)
async def counter_page(
    request: Request, conn: TransactionDep, settings: SettingsDep, cashier: CashierDep
) -> HTMLResponse:
    catalog = await list_products(conn, store_id=settings.store_id)
    stock = await _stock(conn, settings)
    context = {
        "families": variant_families(catalog),
        "stock": stock,
        "alerts": [s for s in stock.values() if s.status != "ok"],
        "reorder_alerts": await _open_alerts(conn, settings),
        "cashier": cashier,
        "family_my": lambda p: SUFFIX.sub("", p.name_my or ""),
        **await _cart_context(conn, settings, cashier),
    }
    return render_page(request, "counter.html", context, settings=settings)


async def _cart_context(
    conn: AsyncConnection, settings: Settings, cashier: Principal, *, message: str = ""
) -> dict[str, Any]:
    """What _cart.html shows: the lines priced as the sale would be, stock, held carts."""
    cart = await carts.open_cart(conn, store_id=settings.store_id, cashier=cashier.name)
    preview = None
    cart_lines: list[Any] = []
    if cart.lines:
        sale = SaleIn(lines=[SaleLineIn(**line.model_dump()) for line in cart.lines])
        # Priced by the same code as the sale; the discount limits are checked on entry
        # and again at payment, not here.
        shop = await with_shop_tax(conn, settings)
        priced = await price_cart(
            conn, cart, settings=shop, limit=discount_limit(cashier.role), check_limits=False
        )
        preview = sale_event(sale, priced.lines, settings=shop, cart_discount=priced.cart_discount)
        cart_lines = priced.cart_lines
    levels = await stock_levels(conn, store_id=settings.store_id, on_sale_only=True)
    return {
        "cart": cart,
        "preview": preview,
        "cart_lines": cart_lines,
        "cart_discount": cart.discount,
        "on_hand": {s.sku: s.on_hand for s in levels},
        "held": await carts.held_carts(conn, store_id=settings.store_id),
        "methods": PAYMENT_METHODS,
        "limit": discount_limit(cashier.role),
        "message": message,
    }


async def _cart_panel(
    request: Request,
    conn: AsyncConnection,
    settings: Settings,
    cashier: Principal,
    *,
    error: str = "",
    message: str = "",
) -> HTMLResponse:
    context = await _cart_context(conn, settings, cashier, message=message)
    return templates.TemplateResponse(
        request,
        "_cart.html",
        {**context, "error": error, "settings": settings},
        status_code=422 if error else 200,
    )


def _client(request: Request) -> str:
    """The address wrong PINs are counted against (as sign-ins are)."""
    return request.client.host if request.client else ""


async def _form(request: Request, settings: Settings) -> dict[str, str]:
    await csrf.require_token(request, settings.secret_key)
    return {k: str(v).strip() for k, v in (await request.form()).items()}


def _int(text: str, what: str) -> int:
    try:
        return int(text.replace(",", ""))
    except ValueError:
        raise carts.CartError(
            gettext("%(what)s must be a whole number (got %(text)s)", what=what, text=repr(text))
        ) from None


def _not_money(what: str, text: str) -> str:
    return gettext(
        "%(what)s must be an amount in kyat, e.g. 50000 (got %(text)s)", what=what, text=repr(text)
    )


async def _find_product(conn: AsyncConnection, code: str, *, store_id: str) -> Product:
    """A scanned barcode, a typed SKU, or a search that matches exactly one product."""
    if not code:
        raise carts.CartError(gettext("type or scan a barcode, SKU or product name"))
    exact = (
        (
            await conn.execute(
                select(products.c.sku).where(
                    products.c.active.is_(True),
                    sold_at(store_id),
                    or_(products.c.barcode == code, products.c.sku == code.upper()),
                )
            )
        )
        .scalars()
        .first()
    )
    if exact is None:
        # Typed on a Zawgyi phone, a Burmese name still finds its Unicode product.
        patterns = [f"%{form.lower()}%" for form in search_forms(code)]
        matches = list(
            (
                await conn.execute(
                    select(products.c.sku)
                    .where(
                        products.c.active.is_(True),
                        sold_at(store_id),
                        or_(
                            *(func.lower(products.c.name).like(p) for p in patterns),
                            *(products.c.name_my.like(p) for p in patterns),
                        ),
                    )
                    .limit(2)
                )
            ).scalars()
        )
        if len(matches) != 1:
            raise carts.CartError(
                gettext(
                    "unknown barcode or SKU %(code)s: no product matches it; pick a tile",
                    code=repr(code),
                )
                if not matches
                else gettext(
                    "unknown barcode or SKU %(code)s: more than one product matches it; "
                    "pick a tile",
                    code=repr(code),
                )
            )
        exact = matches[0]
    return (await products_by_sku(conn, [exact], store_id=store_id))[exact]


async def _change_cart(
    request: Request, conn: AsyncConnection, settings: Settings, cashier: Principal, action: Any
) -> HTMLResponse:
    """Run `action(cart, form)` on the open cart and answer with the cart panel."""
    form = await _form(request, settings)
    cart = await carts.open_cart(conn, store_id=settings.store_id, cashier=cashier.name)
    try:
        message = await action(cart, form) or ""
    except (carts.CartError, SaleRejected, ValidationError) as error:
        text = error.errors()[0]["msg"] if isinstance(error, ValidationError) else str(error)
        return await _cart_panel(request, conn, settings, cashier, error=text)
    await carts.save(conn, cart)
    return await _cart_panel(request, conn, settings, cashier, message=message)


@router.post("/counter/scan", response_class=HTMLResponse)
async def scan(
    request: Request, conn: TransactionDep, settings: SettingsDep, cashier: CashierDep
) -> HTMLResponse:
    """A scanned barcode, a typed SKU or a name that matches one product (the search box)."""
    return await _add_to_cart(request, conn, settings, cashier, field="code")


@router.post("/counter/cart/add", response_class=HTMLResponse)
async def add_to_cart(
    request: Request, conn: TransactionDep, settings: SettingsDep, cashier: CashierDep
) -> HTMLResponse:
    """A product tile: its SKU."""
    return await _add_to_cart(request, conn, settings, cashier, field="sku")


async def _add_to_cart(
    request: Request,
    conn: AsyncConnection,
    settings: Settings,
    cashier: Principal,
    *,
    field: Literal["code", "sku"],
) -> HTMLResponse:
    async def add(cart: carts.Cart, form: dict[str, str]) -> str:
        wanted, store_id = form.get(field, ""), settings.store_id
        product = await (
            _find_product(conn, wanted, store_id=store_id)
            if field == "code"
            else _tile(conn, wanted, store_id=store_id)
        )
        cart.add(product.sku)
        return gettext("Added %(name)s", name=product.name)

    return await _change_cart(request, conn, settings, cashier, add)


async def _tile(conn: AsyncConnection, sku: str, *, store_id: str) -> Product:
    found = await products_by_sku(conn, [sku], store_id=store_id)
    if sku not in found or not found[sku].active:
        raise carts.CartError(gettext("unknown SKU %(sku)s", sku=repr(sku)))
    return found[sku]


@router.post("/counter/cart/line", response_class=HTMLResponse)
async def change_line(
    request: Request, conn: TransactionDep, settings: SettingsDep, cashier: CashierDep
) -> HTMLResponse:
    """Quantity and discount of one line."""

    async def change(cart: carts.Cart, form: dict[str, str]) -> str:
        sku = form.get("sku", "")
        cart.set_quantity(sku, _int(form.get("quantity", ""), gettext("quantity")))
        line = cart.line(sku)
        assert line is not None  # set_quantity checked it
        if "discount_percent" in form:
            try:
                percent = Decimal(form["discount_percent"] or "0")
            except InvalidOperation:
                raise carts.CartError(gettext("discount must be a percentage, e.g. 5")) from None
            reason = check_discount(
                percent,
                form.get("discount_reason", "")[:120],
                limit=discount_limit(cashier.role),
                who=str(cashier.role),
            )
            line.discount_percent, line.discount_reason = percent, reason
        return ""

    return await _change_cart(request, conn, settings, cashier, change)


@router.post("/counter/cart/discount", response_class=HTMLResponse)
async def discount_whole_cart(
    request: Request,
    conn: TransactionDep,
    engine: EngineDep,
    settings: SettingsDep,
    cashier: CashierDep,
) -> HTMLResponse:
    """A percent or an amount off the whole cart; over the limit, with a manager's PIN."""
    form = await _form(request, settings)
    try:
        message = await discount_cart(
            conn,
            settings=settings,
            cashier=cashier,
            form=form,
            approve=approver_at(engine, client=_client(request)),
        )
    except (SaleRejected, PinRefused, ValidationError) as error:
        text = error.errors()[0]["msg"] if isinstance(error, ValidationError) else str(error)
        return await _cart_panel(request, conn, settings, cashier, error=text)
    return await _cart_panel(request, conn, settings, cashier, message=message)


@router.post("/counter/cart/remove", response_class=HTMLResponse)
async def remove_line(
    request: Request, conn: TransactionDep, settings: SettingsDep, cashier: CashierDep
) -> HTMLResponse:
    async def remove(cart: carts.Cart, form: dict[str, str]) -> str:
        cart.remove(form.get("sku", ""))
        return ""

    return await _change_cart(request, conn, settings, cashier, remove)


@router.post("/counter/cart/void", response_class=HTMLResponse)
async def void_cart(
    request: Request, conn: TransactionDep, settings: SettingsDep, cashier: CashierDep
) -> HTMLResponse:
    await _form(request, settings)
    cart = await carts.open_cart(conn, store_id=settings.store_id, cashier=cashier.name)
    try:
        await carts.void(conn, cart, actor=cashier.actor)
    except carts.CartError as error:
        return await _cart_panel(request, conn, settings, cashier, error=str(error))
    return await _cart_panel(request, conn, settings, cashier, message=gettext("Cart voided"))


@router.post("/counter/cart/hold", response_class=HTMLResponse)
async def hold_cart(
    request: Request, conn: TransactionDep, settings: SettingsDep, cashier: CashierDep
) -> HTMLResponse:
    await _form(request, settings)
    cart = await carts.open_cart(conn, store_id=settings.store_id, cashier=cashier.name)
    try:
        await carts.hold(conn, cart, actor=cashier.actor)
    except carts.CartError as error:
        return await _cart_panel(request, conn, settings, cashier, error=str(error))
    return await _cart_panel(
        request, conn, settings, cashier, message=gettext("Cart %(id)s on hold", id=cart.id)
    )


@router.post("/counter/cart/resume", response_class=HTMLResponse)
async def resume_cart(
    request: Request, conn: TransactionDep, settings: SettingsDep, cashier: CashierDep
) -> HTMLResponse:
    form = await _form(request, settings)
    try:
        cart_id = _int(form.get("cart_id", ""), gettext("cart"))
        await carts.resume(
            conn,
            cart_id=cart_id,
            store_id=settings.store_id,
            cashier=cashier.name,
            actor=cashier.actor,
        )
    except carts.CartError as error:
        return await _cart_panel(request, conn, settings, cashier, error=str(error))
    return await _cart_panel(
        request, conn, settings, cashier, message=gettext("Cart %(id)s resumed", id=cart_id)
    )


@router.get("/counter/cart", response_class=HTMLResponse)
async def cart_panel(
    request: Request, conn: TransactionDep, settings: SettingsDep, cashier: CashierDep
) -> HTMLResponse:
    return await _cart_panel(request, conn, settings, cashier)


@router.post("/counter/pay", response_class=HTMLResponse)
async def pay(
    request: Request,
    conn: TransactionDep,
    relay: RelayDep,
    settings: SettingsDep,
    cashier: CashierDep,
) -> HTMLResponse:
    form = await _form(request, settings)
    # The counter takes money only during a shift, so every sale is in some Z report.
    if (
        await current_shift(conn, store_id=settings.store_id, register_id=settings.register_id)
        is None
    ):
        return await _cart_panel(
            request,
            conn,
            settings,
            cashier,
            error=gettext("no shift is open at this register: open one (Shift)"),
        )
    try:
        recorded = await checkout(
            conn, settings=settings, cashier=cashier, payment=lambda: CounterPayment.from_form(form)
        )
    except (SaleRejected, IdempotencyConflict, ValidationError) as error:
        text = error.errors()[0]["msg"] if isinstance(error, ValidationError) else str(error)
        return await _cart_panel(request, conn, settings, cashier, error=text)
    after_commit(conn, relay.wake)
    return templates.TemplateResponse(
        request,
        "_paid.html",
        {
            "sale": recorded.event,
            "settings": settings,
            "methods": PAYMENT_METHODS,
            **receipt_extras(request, settings, recorded.event.sale_id),
        },
        status_code=201,
    )


@router.get("/counter/alerts", response_class=HTMLResponse)
async def alerts(
    request: Request, conn: TransactionDep, settings: SettingsDep, _: CashierDep
) -> HTMLResponse:
    """The alert strip, plus each tile's on-hand figure swapped in out of band."""
    levels = await stock_levels(conn, store_id=settings.store_id, on_sale_only=True)
    return templates.TemplateResponse(
        request,
        "_alerts.html",
        {
            "alerts": [s for s in levels if s.status != "ok"],
            "reorder_alerts": await _open_alerts(conn, settings),
            "levels": levels,
            "oob": True,
        },
    )


async def _open_alerts(conn: AsyncConnection, settings: Settings) -> list[Any]:
    """Reorder-point crossings no manager has acknowledged yet (read-only here: a manager
    acknowledges them on the Today view)."""
    return await list_alerts(conn, stores=[settings.store_id], open_only=True, limit=20)


@router.get("/counter/stock", response_class=HTMLResponse)
async def stock_partial(
    request: Request, conn: TransactionDep, settings: SettingsDep, _: CashierDep
) -> HTMLResponse:
    stock = await stock_levels(conn, store_id=settings.store_id, on_sale_only=True)
    return templates.TemplateResponse(request, "_stock_table.html", {"stock": stock})


@router.get("/counter/sales", response_class=HTMLResponse)
async def sales_today(
    request: Request, conn: TransactionDep, settings: SettingsDep, cashier: CashierDep
) -> HTMLResponse:
    sales = await todays_sales(conn, settings=settings)
    context = {"sales": sales, "cashier": cashier, "methods": PAYMENT_METHODS}
    return render_page(request, "counter_sales.html", context, settings=settings)


@router.get("/counter/receipts/{sale_id}", response_class=HTMLResponse)
async def receipt_page(
    sale_id: str, request: Request, conn: TransactionDep, settings: SettingsDep, cashier: CashierDep
) -> HTMLResponse:
    sale = await find_sale(conn, sale_id, settings=settings)
    if sale is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no sale {sale_id} at this store")
    context = {
        "sale": sale,
        "cashier": cashier,
        "methods": PAYMENT_METHODS,
        "reprint": True,
        **receipt_extras(request, settings, sale_id),
    }
    return render_page(request, "receipt.html", context, settings=settings)


# --- Returns: find a past sale by id, take some lines back with a reason ----------------


@router.get("/counter/returns", response_class=HTMLResponse)
async def returns_page(
    request: Request,
    conn: TransactionDep,
    settings: SettingsDep,
    cashier: CashierDep,
    sale_id: str = "",
) -> HTMLResponse:
    sale_id = sale_id.strip()[:40]
    sale = await _returnable(conn, sale_id, settings) if sale_id else None
    error = gettext("no sale %(id)s at this store", id=sale_id) if sale_id and sale is None else ""
    context = {
        "sale": sale,
        "sale_id": sale_id,
        "error": error,
        "cashier": cashier,
        "methods": PAYMENT_METHODS,
        "needs_approval": not role_allows(cashier.role or Role.cashier, Role.manager),
    }
    response = render_page(request, "counter_returns.html", context, settings=settings)
    response.status_code = 404 if error else 200
    return response


async def _returnable(conn: AsyncConnection, sale_id: str, settings: Settings) -> SaleDetail | None:
    """The counter takes back only its own store's sales (the return is booked here)."""
    return await find_returnable(conn, sale_id, settings=settings, stores=[settings.store_id])


@router.post("/counter/returns", response_class=HTMLResponse)
async def take_return(
    request: Request,
    conn: TransactionDep,
    engine: EngineDep,
    relay: RelayDep,
    settings: SettingsDep,
    cashier: CashierDep,
) -> HTMLResponse:
    """Take lines back and refund them; with `action=exchange`, sell the product in
    `exchange_code` in the same step. A cashier's refund needs a manager's PIN."""
    form = await _form(request, settings)
    sale_id = form.get("sale_id", "")[:40]
    error = ""
    done = None
    swapped = None
    try:
        body = _return_body(form)
        approve = approver_at(engine, client=_client(request))
        if form.get("action") == "exchange":
            if not form.get("exchange_code"):
                raise ReturnRejected(gettext("scan or type the product the customer takes instead"))
            swapped = await exchange(
                conn,
                settings=settings,
                cashier=cashier,
                sale_id=sale_id,
                body=body,
                new_lines=lambda: _exchange_lines(conn, form, settings=settings),
                approval=await refund_approval(cashier, form, approve),
            )
            done = swapped.returned if swapped is not None else None
        else:
            done = await counter_return(
                conn,
                settings=settings,
                cashier=cashier,
                sale_id=sale_id,
                body=body,
                form=form,
                approve=approve,
            )
        if done is None:
            error = gettext("no sale %(id)s at this store", id=sale_id)
    except (ReturnRejected, SaleRejected, PinRefused, carts.CartError, ValueError) as problem:
        text = problem.errors()[0]["msg"] if isinstance(problem, ValidationError) else str(problem)
        error = text
    if done is not None:
        after_commit(conn, relay.wake)
    sale = await _returnable(conn, sale_id, settings) if sale_id else None
    context = {
        "sale": sale,
        "sale_id": sale_id,
        "error": error,
        "done": done,
        "exchange": swapped,
        "cashier": cashier,
        "form": form if error else {},
        "methods": PAYMENT_METHODS,
        "needs_approval": not role_allows(cashier.role or Role.cashier, Role.manager),
    }
    response = render_page(request, "counter_returns.html", context, settings=settings)
    response.status_code = 422 if error else 201
    return response


def _return_body(form: dict[str, str]) -> ReturnIn:
    lines = []
    for key, value in form.items():
        if key.startswith("qty_") and value not in ("", "0"):
            quantity = _int(value, gettext("quantity to return"))
            lines.append(ReturnLineIn(line_no=int(key.removeprefix("qty_")), quantity=quantity))
    if not lines:
        raise ReturnRejected(gettext("enter how many of at least one line come back"))
    if not form.get("reason"):
        raise ReturnRejected(gettext("a return needs a reason"))
    refund_method = form.get("refund_method") or "cash"
    if refund_method not in PAYMENT_METHODS:
        raise ReturnRejected(gettext("choose how the refund is paid"))
    return ReturnIn(reason=form["reason"][:200], lines=lines, refund_method=refund_method)


async def _exchange_lines(
    conn: AsyncConnection, form: dict[str, str], *, settings: Settings
) -> list[SaleLineIn]:
    """The product the customer takes instead (scanned or typed), and how many."""
    if (
        await current_shift(conn, store_id=settings.store_id, register_id=settings.register_id)
        is None
    ):
        raise ReturnRejected(gettext("no shift is open at this register: open one (Shift)"))
    product = await _find_product(conn, form["exchange_code"][:60], store_id=settings.store_id)
    quantity = carts.check_quantity(_int(form.get("exchange_qty") or "1", gettext("quantity")))
    return [SaleLineIn(sku=product.sku, quantity=quantity)]
