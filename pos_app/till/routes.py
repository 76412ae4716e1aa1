"""The till's pages: open a shift, pay cash in and out, close with the drawer count, the
X and Z reports (printable on 80 mm), and the manager's list of shifts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.auth.deps import CashierDep, ManagerDep, Principal
from pos_app.auth.roles import Role, role_allows
from pos_app.deps import SettingsDep, TransactionDep
from pos_app.i18n import N_
from pos_app.sales.schemas import PAYMENT_METHODS
from pos_app.security import csrf
from pos_app.settings import Settings
from pos_app.templating import render_page
from pos_app.till import service
from pos_app.till.service import NOTES, ShiftError

router = APIRouter(include_in_schema=False)
# The counter's payment methods (labels translated where shown), and the payments of
# sales stored before methods were.
METHODS: dict[str, str] = {
    **{str(method): label for method, label in PAYMENT_METHODS.items()},
    "unrecorded": N_("Not recorded"),
}
# Messages people read on these pages, in one place for translation.
NO_SHIFT = "no shift is open at this register"


def _local(settings: Settings) -> Callable[[datetime], str]:
    """For templates: a UTC time as MySQL keeps it, in the shop's time zone."""
    zone = ZoneInfo(settings.shop_timezone)
    return lambda when: when.replace(tzinfo=UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M")


async def _form(request: Request, settings: Settings) -> dict[str, str]:
    await csrf.require_token(request, settings.secret_key)
    return {k: str(v).strip() for k, v in (await request.form()).items()}


def _kyat(text: str, what: str) -> Decimal:
    try:
        return Decimal(text.replace(",", "").removesuffix("Ks").strip() or "x")
    except InvalidOperation:
        raise ShiftError(f"{what} must be a whole number of kyat, e.g. 50000") from None


async def _page(
    request: Request,
    conn: TransactionDep,
    settings: Settings,
    cashier: Principal,
    *,
    error: str = "",
    message: str = "",
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    shift = await service.current_shift(
        conn, store_id=settings.store_id, register_id=settings.register_id
    )
    report = (
        await service.shift_report(conn, shift, sales_topic=settings.sales_topic) if shift else None
    )
    context: dict[str, Any] = {
        "shift": shift,
        "report": report,
        "notes": NOTES,
        "methods": METHODS,
        "cashier": cashier,
        "error": error,
        "message": message,
        "form": form or {},
        "local": _local(settings),
    }
    response = render_page(request, "counter_shift.html", context, settings=settings)
    if error:
        response.status_code = 422
    return response


@router.get("/counter/shift", response_class=HTMLResponse)
async def shift_page(
    request: Request, conn: TransactionDep, settings: SettingsDep, cashier: CashierDep
) -> HTMLResponse:
    return await _page(request, conn, settings, cashier)


@router.post("/counter/shift/open", response_class=HTMLResponse)
async def open_shift(
    request: Request, conn: TransactionDep, settings: SettingsDep, cashier: CashierDep
) -> Response:
    form = await _form(request, settings)
    try:
        await service.open_shift(
            conn,
            store_id=settings.store_id,
            register_id=settings.register_id,
            cashier=cashier.name,
            opening_float=_kyat(form.get("opening_float", ""), "the opening float"),
            actor=cashier.actor,
        )
    except ShiftError as error:
        return await _page(request, conn, settings, cashier, error=str(error), form=form)
    return RedirectResponse("/counter/shift", status_code=status.HTTP_303_SEE_OTHER)


async def _open_shift(conn: AsyncConnection, settings: Settings) -> service.Shift:
    """The register's open shift, or ShiftError: cash moves and closing need one."""
    shift = await service.current_shift(
        conn, store_id=settings.store_id, register_id=settings.register_id
    )
    if shift is None:
        raise ShiftError(NO_SHIFT)
    return shift


@router.post("/counter/shift/cash", response_class=HTMLResponse)
async def cash_in_out(
    request: Request, conn: TransactionDep, settings: SettingsDep, cashier: CashierDep
) -> Response:
    form = await _form(request, settings)
    try:
        shift = await _open_shift(conn, settings)
        kind = form.get("kind", "")
        if kind not in ("in", "out"):
            raise ShiftError("choose paid in or paid out")
        await service.record_cash(
            conn,
            shift,
            kind=kind,  # type: ignore[arg-type]
            amount=_kyat(form.get("amount", ""), "the amount"),
            reason=form.get("reason", ""),
            actor=cashier.actor,
            recorded_by=cashier.name,
        )
    except ShiftError as error:
        return await _page(request, conn, settings, cashier, error=str(error), form=form)
    return RedirectResponse("/counter/shift", status_code=status.HTTP_303_SEE_OTHER)


@router.post("/counter/shift/close", response_class=HTMLResponse)
async def close_shift(
    request: Request, conn: TransactionDep, settings: SettingsDep, cashier: CashierDep
) -> Response:
    form = await _form(request, settings)
    try:
        shift = await _open_shift(conn, settings)
        if shift.cashier != cashier.name and not role_allows(cashier.role or "", Role.manager):
            raise ShiftError(f"only {shift.cashier} or a manager may close this shift")
        notes = {}
        for value in NOTES:
            text = form.get(f"note_{value}", "") or "0"
            if not text.isdigit():
                raise ShiftError(f"the count of {value:,} Ks notes must be a whole number")
            notes[value] = int(text)
        closed = await service.close_shift(
            conn, shift, notes=notes, closed_by=cashier.name, actor=cashier.actor
        )
    except ShiftError as error:
        return await _page(request, conn, settings, cashier, error=str(error), form=form)
    return RedirectResponse(
        f"/counter/shifts/{closed.shift_id}/report", status_code=status.HTTP_303_SEE_OTHER
    )


@router.get("/counter/shifts/{shift_id}/report", response_class=HTMLResponse)
async def shift_report_page(
    shift_id: int,
    request: Request,
    conn: TransactionDep,
    settings: SettingsDep,
    cashier: CashierDep,
) -> HTMLResponse:
    """The X report (shift open) or Z report (closed), printable on an 80 mm roll; a
    cashier sees their own shifts', a manager every one (to reprint)."""
    shift = await service.get_shift(conn, shift_id)
    if shift is None or shift.store_id != settings.store_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no shift {shift_id} at this store")
    if shift.cashier != cashier.name and not role_allows(cashier.role or "", Role.manager):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="a manager may see others' shifts")
    report = await service.shift_report(conn, shift, sales_topic=settings.sales_topic)
    context = {
        "report": report,
        "methods": METHODS,
        "notes": NOTES,
        "cashier": cashier,
        "local": _local(settings),
    }
    return render_page(request, "shift_report.html", context, settings=settings)


@router.get("/manager/shifts", response_class=HTMLResponse)
async def shifts_page(
    request: Request, conn: TransactionDep, settings: SettingsDep, manager: ManagerDep
) -> HTMLResponse:
    """Every shift of the store, newest first, with expected and counted cash and the
    over/short, and each cashier's over/short in all."""
    reports = [
        await service.shift_report(conn, shift, sales_topic=settings.sales_topic)
        for shift in await service.list_shifts(conn, store_id=settings.store_id)
    ]
    by_cashier: dict[str, Decimal] = {}
    for report in reports:
        if report.over_short is not None:
            name = report.shift.cashier
            by_cashier[name] = by_cashier.get(name, Decimal(0)) + report.over_short
    context = {
        "reports": reports,
        "by_cashier": sorted(by_cashier.items()),
        "principal": manager,
        "local": _local(settings),
    }
    return render_page(request, "manager_shifts.html", context, settings=settings)
