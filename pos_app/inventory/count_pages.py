"""The stock count page: a count sheet to fill in by typing or scanning, posted as one
set of `count` adjustments, and the variance it found."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from pos_app.auth.deps import ManagerDep, Principal
from pos_app.catalog.products import categories
from pos_app.db.unit_of_work import after_commit
from pos_app.deps import RelayDep, SettingsDep, TransactionDep
from pos_app.inventory.counts import (
    CountRejected,
    CountResult,
    count_sheet,
    parse_counts,
    post_count,
)
from pos_app.security import csrf
from pos_app.settings import Settings
from pos_app.templating import render_page

router = APIRouter(include_in_schema=False)


async def _page(
    request: Request,
    conn: TransactionDep,
    settings: Settings,
    manager: Principal,
    *,
    category: str,
    show_expected: bool,
    counted: dict[str, str] | None = None,
    result: CountResult | None = None,
    error: str | None = None,
    code: int = 200,
) -> HTMLResponse:
    response = render_page(
        request,
        "manager_stock_count.html",
        {
            "rows": await count_sheet(conn, store_id=settings.store_id, category=category),
            "categories": await categories(conn),
            "category": category,
            "show_expected": show_expected,
            "counted": counted or {},
            "result": result,
            "error": error,
            "principal": manager,
        },
        settings=settings,
    )
    response.status_code = code
    return response


@router.get("/manager/stock-counts", response_class=HTMLResponse)
async def count_page(
    request: Request,
    conn: TransactionDep,
    settings: SettingsDep,
    manager: ManagerDep,
    category: str = "",
    expected: bool = False,
) -> HTMLResponse:
    """`?category=` for one category's sheet; `?expected=true` shows on hand (a blind
    count, the default, keeps the counter from copying it)."""
    return await _page(
        request, conn, settings, manager, category=category[:60], show_expected=expected
    )


@router.post("/manager/stock-counts", response_class=HTMLResponse)
async def post_count_form(
    request: Request,
    conn: TransactionDep,
    relay: RelayDep,
    settings: SettingsDep,
    manager: ManagerDep,
) -> HTMLResponse:
    await csrf.require_token(request, settings.secret_key)
    form = {k: str(v) for k, v in (await request.form()).items() if k != "csrf_token"}
    category = form.get("category", "")[:60]
    show_expected = form.get("expected") == "true"
    try:
        counted = parse_counts(form)
        result = await post_count(
            conn, counted, settings=settings, user=manager.name, actor=manager.actor
        )
    except CountRejected as error:
        counts = {k[6:]: v for k, v in form.items() if k.startswith("count_")}
        return await _page(
            request,
            conn,
            settings,
            manager,
            category=category,
            show_expected=show_expected,
            counted=counts,
            error=str(error),
            code=422,
        )
    after_commit(conn, relay.wake)
    return await _page(
        request, conn, settings, manager, category=category, show_expected=True, result=result
    )
