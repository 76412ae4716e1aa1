"""A manager's or admin's own approval PIN: the page to set it (CSRF-checked form)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from pos_app.auth.deps import ManagerDep
from pos_app.auth.pins import PinRefused, has_pin, set_pin
from pos_app.deps import SettingsDep, TransactionDep
from pos_app.i18n import gettext
from pos_app.security import csrf
from pos_app.templating import render_page

router = APIRouter(include_in_schema=False)


@router.get("/account/pin", response_class=HTMLResponse)
async def pin_page(
    request: Request, conn: TransactionDep, settings: SettingsDep, me: ManagerDep
) -> HTMLResponse:
    context = {"has_pin": await has_pin(conn, username=me.name), "error": "", "done": False}
    return render_page(request, "account_pin.html", context, settings=settings)


@router.post("/account/pin", response_class=HTMLResponse)
async def change_pin(
    request: Request, conn: TransactionDep, settings: SettingsDep, me: ManagerDep
) -> HTMLResponse:
    await csrf.require_token(request, settings.secret_key)
    form = await request.form()
    pin, again = str(form.get("pin", "")).strip(), str(form.get("pin_again", "")).strip()
    error = ""
    try:
        if pin != again:
            raise PinRefused(gettext("the two PINs differ"))
        await set_pin(conn, username=me.name, pin=pin, actor=me.actor)
    except PinRefused as refused:
        error = str(refused)
    context = {"has_pin": await has_pin(conn, username=me.name), "error": error, "done": not error}
    response = render_page(request, "account_pin.html", context, settings=settings)
    response.status_code = 422 if error else 200
    return response
