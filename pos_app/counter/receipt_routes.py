"""The receipt a customer opens from a link sent by Viber or SMS: no sign-in, but the
link is signed with the shop's secret and expires (receipt_codes.py)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse
from starlette.datastructures import URL

from pos_app.counter.receipt_codes import (
    BadReceiptLink,
    receipt_token,
    sale_barcode_svg,
    sale_of_token,
)
from pos_app.counter.receipts import find_sale
from pos_app.deps import SettingsDep, TransactionDep
from pos_app.settings import Settings
from pos_app.templating import render_page

router = APIRouter(include_in_schema=False)
METHODS = {
    "cash": "Cash",
    "card": "Card",
    "kbzpay": "KBZPay",
    "wavepay": "WavePay",
    "ayapay": "AYA Pay",
}


def receipt_extras(request: Request, settings: Settings, sale_id: str) -> dict[str, object]:
    """What a receipt shows besides the sale: its barcode and its shareable link."""
    link: URL = request.url_for("shared_receipt", token=receipt_token(settings.secret_key, sale_id))
    return {"barcode": sale_barcode_svg(sale_id), "receipt_link": str(link)}


@router.get("/r/{token}", response_class=HTMLResponse, name="shared_receipt")
async def shared_receipt(
    token: str, request: Request, conn: TransactionDep, settings: SettingsDep
) -> HTMLResponse:
    try:
        sale_id = sale_of_token(settings.secret_key, token[:200])
    except BadReceiptLink as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(error)) from None
    sale = await find_sale(conn, sale_id, settings=settings)
    if sale is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no sale {sale_id} at this store")
    context = {
        "sale": sale,
        "methods": METHODS,
        "barcode": sale_barcode_svg(sale_id),
        "shared": True,
    }
    response = render_page(request, "receipt_shared.html", context, settings=settings)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = (
        "no-referrer"  # the link is the key: keep it out of referers
    )
    return response
