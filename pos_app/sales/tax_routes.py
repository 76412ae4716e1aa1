"""The shop's commercial-tax setting: an admin's page and the REST API to read and set
it. A change applies to the next sale at once (pos_app/shop_tax.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from pos_app.auth.deps import AdminDep, Principal, require_scope
from pos_app.auth.roles import REPORTS_READ, SETTINGS_ADMIN
from pos_app.deps import SettingsDep, TransactionDep
from pos_app.security import csrf
from pos_app.shop_tax import TaxSettingRejected, current, set_tax
from pos_app.tax import TAX_MODES
from pos_app.templating import render_page

router = APIRouter()


class TaxSettingOut(BaseModel):
    mode: Literal["none", "included", "added"]
    rate: Decimal = Field(description="percent")
    updated_by: str | None = Field(description="who set it; null: the environment's default")


class TaxSettingIn(BaseModel):
    model_config = {"extra": "forbid"}
    mode: Literal["none", "included", "added"]
    rate: Decimal = Field(ge=0, le=100, decimal_places=2, description="percent")


@router.get("/api/v1/settings/tax", response_model=TaxSettingOut, tags=["settings"])
async def get_tax(
    conn: TransactionDep,
    settings: SettingsDep,
    _: Annotated[Principal, Depends(require_scope(REPORTS_READ))],
) -> TaxSettingOut:
    """The commercial tax the next sale is charged."""
    now = await current(conn, settings)
    return TaxSettingOut(mode=now.mode, rate=now.rate, updated_by=now.updated_by)


@router.put("/api/v1/settings/tax", response_model=TaxSettingOut, tags=["settings"])
async def put_tax(
    body: TaxSettingIn,
    conn: TransactionDep,
    settings: SettingsDep,
    principal: Annotated[Principal, Depends(require_scope(SETTINGS_ADMIN))],
) -> TaxSettingOut:
    """Set the commercial tax (audited); the next sale is charged by it."""
    try:
        done = await set_tax(
            conn, settings=settings, mode=body.mode, rate=body.rate, actor=principal.actor
        )
    except TaxSettingRejected as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(error)) from None
    return TaxSettingOut(mode=done.mode, rate=done.rate, updated_by=done.updated_by)


@router.get("/admin/tax", response_class=HTMLResponse, include_in_schema=False)
async def tax_setting_page(
    request: Request, conn: TransactionDep, settings: SettingsDep, admin: AdminDep
) -> HTMLResponse:
    context = {"tax": await current(conn, settings), "modes": TAX_MODES, "error": "", "done": False}
    return render_page(request, "admin_tax.html", context, settings=settings)


@router.post("/admin/tax", response_class=HTMLResponse, include_in_schema=False)
async def change_tax_setting(
    request: Request, conn: TransactionDep, settings: SettingsDep, admin: AdminDep
) -> HTMLResponse:
    await csrf.require_token(request, settings.secret_key)
    form = await request.form()
    error = ""
    try:
        await set_tax(
            conn,
            settings=settings,
            mode=str(form.get("mode", "")),
            rate=str(form.get("rate", ""))[:10],
            actor=admin.actor,
        )
    except TaxSettingRejected as refused:
        error = str(refused)
    context = {
        "tax": await current(conn, settings),
        "modes": TAX_MODES,
        "error": error,
        "done": not error,
    }
    response = render_page(request, "admin_tax.html", context, settings=settings)
    response.status_code = 422 if error else 200
    return response
