"""The manager's catalogue pages: the product list, a product's form, the size-by-colour
grid that makes a family."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from pos_app.auth.deps import ManagerDep, Principal
from pos_app.catalog.families import (
    Family,
    FamilyRejected,
    family_products,
    parse_colours,
    split_list,
)
from pos_app.catalog.flows import add_products
from pos_app.catalog.products import (
    PAGE_SIZE,
    ActiveFilter,
    ProductIn,
    ProductPatch,
    ProductRejected,
    categories,
    get_product,
    price_changes,
    search_products,
    update_product,
)
from pos_app.db.unit_of_work import after_commit
from pos_app.deps import RelayDep, SettingsDep, TransactionDep
from pos_app.security import csrf
from pos_app.settings import Settings
from pos_app.templating import render_page

router = APIRouter(include_in_schema=False)

CREATED = "{n} product(s) added."
OPENING_ON_ITS_WAY = "Opening stock travels as receipt {receipt}: on hand shows it in seconds."
SAVED = "Saved."
NOTHING_CHANGED = "Nothing changed."
NOT_A_NUMBER = "{field}: not a number"
NO_PRODUCT = "No product with SKU {sku}."

PRODUCT_FIELDS = (
    "sku",
    "name",
    "name_my",
    "category",
    "style",
    "colour",
    "size",
    "unit_price",
    "cost_price",
    "barcode",
    "reorder_point",
    "opening_stock",
)


def problems(error: ValidationError) -> str:
    """A pydantic error as one line a manager can act on: 'unit_price: ...; sku: ...'."""
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"] if not isinstance(p, int))
        message = str(item["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


async def _form(request: Request, settings: Settings) -> dict[str, str]:
    await csrf.require_token(request, settings.secret_key)
    form = await request.form()
    return {k: str(v) for k, v in form.items() if k != "csrf_token"}


def _active_filter(value: str) -> ActiveFilter:
    return value if value in ("true", "false", "all") else "true"  # type: ignore[return-value]


@router.get("/manager/products", response_class=HTMLResponse)
async def products_page(
    request: Request,
    conn: TransactionDep,
    settings: SettingsDep,
    manager: ManagerDep,
    q: str = "",
    category: str = "",
    active: str = "true",
    page: int = 1,
) -> HTMLResponse:
    shown = _active_filter(active)
    page = max(1, page)
    found = await search_products(
        conn,
        store_id=settings.store_id,
        q=q[:100],
        category=category[:60],
        active=shown,
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE,
    )
    pages = max(1, -(-found.total // PAGE_SIZE))

    def page_link(n: int) -> str:
        query = {"q": q, "category": category, "active": shown, "page": n}
        return "/manager/products?" + urlencode(query)

    return render_page(
        request,
        "manager_products.html",
        {
            "found": found,
            "q": q,
            "category": category,
            "active": shown,
            "categories": await categories(conn),
            "page": page,
            "pages": pages,
            "page_link": page_link,
            "message": request.query_params.get("message"),
            "principal": manager,
        },
        settings=settings,
    )


async def _product_form(
    request: Request,
    conn: TransactionDep,
    settings: Settings,
    manager: Principal,
    *,
    values: dict[str, Any],
    sku: str | None = None,
    error: str | None = None,
    message: str | None = None,
    code: int = 200,
) -> HTMLResponse:
    response = render_page(
        request,
        "manager_product_form.html",
        {
            "values": values,
            "sku": sku,
            "history": await price_changes(conn, sku) if sku else [],
            "categories": await categories(conn),
            "error": error,
            "message": message,
            "principal": manager,
        },
        settings=settings,
    )
    response.status_code = code
    return response


@router.get("/manager/products/new", response_class=HTMLResponse)
async def new_product_page(
    request: Request, conn: TransactionDep, settings: SettingsDep, manager: ManagerDep
) -> HTMLResponse:
    return await _product_form(
        request, conn, settings, manager, values={"reorder_point": 0, "opening_stock": 0}
    )


@router.post("/manager/products/new", response_class=HTMLResponse)
async def new_product(
    request: Request,
    conn: TransactionDep,
    relay: RelayDep,
    settings: SettingsDep,
    manager: ManagerDep,
) -> Response:
    form = await _form(request, settings)
    values = {field: form.get(field, "") for field in PRODUCT_FIELDS}
    try:
        item = ProductIn.model_validate(
            {**{k: v for k, v in values.items() if v != ""}, "active": True}, strict=False
        )
        stored, receipt = await add_products(
            conn, [item], settings=settings, user=manager.name, actor=manager.actor
        )
    except ValidationError as error:
        return await _product_form(
            request, conn, settings, manager, values=values, error=problems(error), code=422
        )
    except ProductRejected as error:
        return await _product_form(
            request, conn, settings, manager, values=values, error=str(error), code=409
        )
    after_commit(conn, relay.wake)
    return _back_to_list(stored[0].sku, receipt.receipt_id if receipt else None, 1)


def _back_to_list(sku: str, receipt_id: str | None, count: int) -> RedirectResponse:
    message = CREATED.format(n=count)
    if receipt_id:
        message += " " + OPENING_ON_ITS_WAY.format(receipt=receipt_id)
    query = urlencode({"q": sku, "active": "all", "message": message})
    return RedirectResponse(f"/manager/products?{query}", status_code=status.HTTP_303_SEE_OTHER)


@router.get("/manager/products/{sku}/edit", response_class=HTMLResponse)
async def edit_product_page(
    sku: str, request: Request, conn: TransactionDep, settings: SettingsDep, manager: ManagerDep
) -> HTMLResponse:
    product = await get_product(conn, sku, store_id=settings.store_id)
    if product is None:
        return await _missing(request, conn, settings, manager, sku)
    return await _product_form(
        request, conn, settings, manager, values=product.model_dump(), sku=sku
    )


async def _missing(
    request: Request, conn: TransactionDep, settings: Settings, manager: Principal, sku: str
) -> HTMLResponse:
    response = await products_page(request, conn, settings, manager)
    response.status_code = status.HTTP_404_NOT_FOUND
    return response


@router.post("/manager/products/{sku}/edit", response_class=HTMLResponse)
async def edit_product(
    sku: str,
    request: Request,
    conn: TransactionDep,
    settings: SettingsDep,
    manager: ManagerDep,
) -> Response:
    form = await _form(request, settings)
    product = await get_product(conn, sku, store_id=settings.store_id)
    if product is None:
        return await _missing(request, conn, settings, manager, sku)
    editable = [f for f in PRODUCT_FIELDS if f not in ("sku", "opening_stock")]
    values: dict[str, Any] = {f: form.get(f, "") for f in (*editable, "reorder_point")}
    values["active"] = form.get("active") == "on"
    try:
        sent = {k: v for k, v in values.items() if k in form or k == "active"}
        patch = ProductPatch.model_validate(sent, strict=False)
        before, after = await update_product(
            conn, sku, patch, store_id=settings.store_id, actor=manager.actor
        )
    except ValidationError as error:
        return await _product_form(
            request,
            conn,
            settings,
            manager,
            values={**product.model_dump(), **values},
            sku=sku,
            error=problems(error),
            code=422,
        )
    except ProductRejected as error:
        return await _product_form(
            request,
            conn,
            settings,
            manager,
            values={**product.model_dump(), **values},
            sku=sku,
            error=str(error),
            code=409,
        )
    message = SAVED if before != after else NOTHING_CHANGED
    return await _product_form(
        request, conn, settings, manager, values=after.model_dump(), sku=sku, message=message
    )


def _grid_args(values: dict[str, str]) -> tuple[list[str], list[Any]]:
    return split_list(values.get("sizes", "")), parse_colours(values.get("colours", ""))


async def _family_form(
    request: Request,
    conn: TransactionDep,
    settings: Settings,
    manager: Principal,
    values: dict[str, str],
    *,
    error: str | None = None,
    code: int = 200,
) -> HTMLResponse:
    sizes, colours = _grid_args(values)
    response = render_page(
        request,
        "manager_product_family.html",
        {
            "values": values,
            "sizes": sizes,
            "colours": colours,
            "categories": await categories(conn),
            "error": error,
            "principal": manager,
        },
        settings=settings,
    )
    response.status_code = code
    return response


FAMILY_FIELDS = (
    "sku_prefix",
    "style",
    "style_my",
    "category",
    "unit_price",
    "cost_price",
    "reorder_point",
    "sizes",
    "colours",
)


@router.get("/manager/products/family", response_class=HTMLResponse)
async def family_page(
    request: Request, conn: TransactionDep, settings: SettingsDep, manager: ManagerDep
) -> HTMLResponse:
    """The family form; with sizes and colours given (the "Show grid" button, a GET) it
    shows the grid of opening stock to fill in."""
    values = {f: request.query_params.get(f, "") for f in FAMILY_FIELDS}
    return await _family_form(request, conn, settings, manager, values)


def _decimal(text: str, field: str) -> Decimal | None:
    if not text.strip():
        return None
    try:
        return Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        raise FamilyRejected(NOT_A_NUMBER.format(field=field)) from None


def _whole(text: str, field: str) -> int:
    if not text.strip():
        return 0
    try:
        return int(text.strip())
    except ValueError:
        raise FamilyRejected(NOT_A_NUMBER.format(field=field)) from None


@router.post("/manager/products/family", response_class=HTMLResponse)
async def create_family(
    request: Request,
    conn: TransactionDep,
    relay: RelayDep,
    settings: SettingsDep,
    manager: ManagerDep,
) -> Response:
    form = await _form(request, settings)
    values = {f: form.get(f, "") for f in FAMILY_FIELDS}
    sizes, colours = _grid_args(values)
    try:
        price = _decimal(values["unit_price"], "unit_price")
        family = Family(
            sku_prefix=values["sku_prefix"].strip(),
            style=values["style"].strip(),
            style_my=values["style_my"].strip() or None,
            category=values["category"].strip(),
            unit_price=price if price is not None else Decimal(0),
            cost_price=_decimal(values["cost_price"], "cost_price"),
            reorder_point=_whole(values["reorder_point"], "reorder_point"),
            sizes=sizes,
            colours=colours,
        )
        if not family.sku_prefix or not family.style:
            raise FamilyRejected("give the family a SKU prefix and a name")
        opening = {
            (ci, si): _whole(form.get(f"open_{ci}_{si}", ""), f"opening stock {c.name} {s}")
            for ci, c in enumerate(colours)
            for si, s in enumerate(sizes)
        }
        items = family_products(family, opening)
        stored, receipt = await add_products(
            conn, items, settings=settings, user=manager.name, actor=manager.actor
        )
    except ValidationError as error:
        return await _family_form(
            request, conn, settings, manager, {**values, **form}, error=problems(error), code=422
        )
    except (FamilyRejected, ProductRejected) as error:
        code = 409 if isinstance(error, ProductRejected) else 422
        return await _family_form(
            request, conn, settings, manager, {**values, **form}, error=str(error), code=code
        )
    after_commit(conn, relay.wake)
    return _back_to_list(
        family.sku_prefix.upper(), receipt.receipt_id if receipt else None, len(stored)
    )
