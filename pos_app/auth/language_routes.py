"""The language of a person's pages: their own choice in the top bar, or the admin's on
the users page. Both are forms (CSRF-checked) that redirect back."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.responses import RedirectResponse

from pos_app.auth.deps import AdminDep, CashierDep
from pos_app.auth.routes import safe_next
from pos_app.auth.service import audit, set_user_locale
from pos_app.deps import SettingsDep, TransactionDep
from pos_app.i18n import LANGUAGES, set_request_locale
from pos_app.security import csrf

router = APIRouter(include_in_schema=False)


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


async def _chosen_locale(request: Request, settings: SettingsDep) -> tuple[str, Any]:
    await csrf.require_token(request, settings.secret_key)
    form = await request.form()
    locale = _text(form, "locale")
    if locale not in LANGUAGES:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=f"unknown language {locale!r}: one of {', '.join(LANGUAGES)}",
        )
    return locale, form


@router.post("/account/language")
async def my_language(
    request: Request, conn: TransactionDep, settings: SettingsDep, me: CashierDep
) -> Response:
    """Anyone signed in switches their own pages' language."""
    locale, form = await _chosen_locale(request, settings)
    await set_user_locale(conn, username=me.name, locale=locale)
    await audit(
        conn, actor=me.actor, action="user.language", target=me.actor, details={"locale": locale}
    )
    set_request_locale(request.scope.setdefault("state", {}), locale)
    return RedirectResponse(safe_next(_text(form, "next")), status_code=status.HTTP_303_SEE_OTHER)


@router.post("/admin/users/{username}/locale")
async def user_language(
    username: str, request: Request, conn: TransactionDep, settings: SettingsDep, admin: AdminDep
) -> Response:
    locale, _form = await _chosen_locale(request, settings)
    if not await set_user_locale(conn, username=username, locale=locale):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no user {username!r}")
    await audit(
        conn,
        actor=admin.actor,
        action="user.language",
        target=f"user:{username}",
        details={"locale": locale},
    )
    return RedirectResponse("/admin/users", status_code=status.HTTP_303_SEE_OTHER)
