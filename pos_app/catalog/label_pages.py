"""The labels pages: choose what to print, then a print page of stickers (A4 sheet) or
a 50 x 30 mm roll."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from pos_app.auth.deps import ManagerDep, Principal
from pos_app.catalog.labels import (
    FORMATS,
    LabelsRejected,
    labels_for,
    received_quantities,
    recent_receipts,
)
from pos_app.catalog.products import search_products
from pos_app.deps import SettingsDep, TransactionDep
from pos_app.settings import Settings
from pos_app.templating import render_page

router = APIRouter(include_in_schema=False)
QTY_PREFIX = "qty_"
BAD_QUANTITY = "{sku}: the number of labels is a whole number from 0"
NOT_RECEIVED = "receipt {receipt} has not been applied by the pipeline yet, or is not a receipt"
PICKER_SIZE = 200


async def _chooser(
    request: Request,
    conn: TransactionDep,
    settings: Settings,
    manager: Principal,
    *,
    quantities: dict[str, int],
    q: str = "",
    receipt: str = "",
    error: str | None = None,
    code: int = 200,
) -> HTMLResponse:
    found = await search_products(conn, store_id=settings.store_id, q=q[:100], limit=PICKER_SIZE)
    chosen = [p for p in found.items if p.sku in quantities]
    if missing := [sku for sku in quantities if sku not in {p.sku for p in found.items}]:
        extra = await search_products(conn, store_id=settings.store_id, active="all")
        chosen += [p for p in extra.items if p.sku in missing]
    others = [p for p in found.items if p.sku not in quantities]
    response = render_page(
        request,
        "manager_labels.html",
        {
            "rows": chosen + others,
            "quantities": quantities,
            "q": q,
            "receipt": receipt,
            "receipts": await recent_receipts(conn, store_id=settings.store_id),
            "error": error,
            "principal": manager,
        },
        settings=settings,
    )
    response.status_code = code
    return response


@router.get("/manager/labels", response_class=HTMLResponse)
async def labels_page(
    request: Request,
    conn: TransactionDep,
    settings: SettingsDep,
    manager: ManagerDep,
    q: str = "",
    sku: str = "",
    receipt: str = "",
) -> HTMLResponse:
    """`?sku=` starts with one label of a product; `?receipt=` with one per unit received."""
    quantities: dict[str, int] = {sku: 1} if sku else {}
    error = None
    if receipt:
        quantities = await received_quantities(conn, receipt, store_id=settings.store_id)
        if not quantities:
            error = NOT_RECEIVED.format(receipt=receipt)
    return await _chooser(
        request,
        conn,
        settings,
        manager,
        quantities=quantities,
        q=q,
        receipt=receipt,
        error=error,
        code=404 if error else 200,
    )


def _quantities(params: Any) -> dict[str, int]:
    quantities: dict[str, int] = {}
    for key, value in params.multi_items():
        if not key.startswith(QTY_PREFIX) or not str(value).strip():
            continue
        sku = key[len(QTY_PREFIX) :]
        try:
            count = int(str(value))
        except ValueError:
            raise LabelsRejected(BAD_QUANTITY.format(sku=sku)) from None
        if count < 0:
            raise LabelsRejected(BAD_QUANTITY.format(sku=sku))
        quantities[sku] = quantities.get(sku, 0) + count
    return quantities


@router.get("/manager/labels/print", response_class=HTMLResponse)
async def print_labels(
    request: Request,
    conn: TransactionDep,
    settings: SettingsDep,
    manager: ManagerDep,
    format: str = "a4",
) -> HTMLResponse:
    """The labels as a print page: `format=a4` (a sheet of 3 x 8 stickers) or `roll`
    (one 50 x 30 mm label per page); `qty_<SKU>=N` says how many of each."""
    sheet = format if format in FORMATS else "a4"
    quantities: dict[str, int] = {}
    try:
        quantities = _quantities(request.query_params)
        labels = await labels_for(conn, quantities)
    except LabelsRejected as error:
        return await _chooser(
            request,
            conn,
            settings,
            manager,
            quantities={k: v for k, v in quantities.items() if v > 0},
            error=str(error),
            code=422,
        )
    return render_page(
        request,
        "labels_print.html",
        {
            "labels": labels,
            "svg": lambda label: Markup(label.svg),  # drawn by python-barcode from digits
            "format": sheet,
            "principal": manager,
        },
        settings=settings,
    )
