"""Login and logout, the admin pages (users, API keys, audit log) and their REST twins."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.api_types import STRICT_INPUT
from pos_app.auth.deps import SESSION_COOKIE, AdminDep, Principal, require_scope, verified_keys
from pos_app.auth.roles import ALL_SCOPES, APIKEYS_ADMIN, AUDIT_READ, Role
from pos_app.auth.service import (
    SESSION_TTL,
    ApiKey,
    AuditEntry,
    LastAdmin,
    LoginFailed,
    LoginLocked,
    audit,
    check_login,
    create_api_key,
    create_user,
    end_session,
    list_api_keys,
    list_audit,
    list_users,
    parse_stores,
    revoke_api_key,
    session_user,
    set_user_active,
    start_session,
    unlock_user,
    user_exists,
)
from pos_app.deps import EngineDep, SettingsDep, TransactionDep
from pos_app.i18n import gettext
from pos_app.problems import AUTHENTICATED, WITH_BODY, problems
from pos_app.security import csrf
from pos_app.templating import render_page

router = APIRouter(responses=problems(AUTHENTICATED, 422))

AuditReader = Annotated[Principal, Depends(require_scope(AUDIT_READ))]
KeyAdmin = Annotated[Principal, Depends(require_scope(APIKEYS_ADMIN))]


class ApiKeyIn(BaseModel):
    model_config = STRICT_INPUT

    name: str
    scopes: list[str]
    stores: list[str] | None = None  # None: this install's store


class ApiKeyCreated(BaseModel):
    api_key: ApiKey
    key: str  # the full key: shown this once, only its hash is kept


def safe_next(target: str | None) -> str:
    """A local path to go to after login; anything else (//evil.com, https://…) is "/"."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target  # browsers read "/\evil.com" as "//evil.com"
        or any(ord(char) < 32 for char in target)
    ):
        return "/"
    parts = urlsplit(target)
    return "/" if parts.scheme or parts.netloc else target


def _form_text(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


# --- Login ---------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
async def login_page(
    request: Request, settings: SettingsDep, next_path: Annotated[str, Query(alias="next")] = "/"
) -> HTMLResponse:
    return render_page(
        request, "login.html", {"next": safe_next(next_path), "error": None}, settings=settings
    )


@router.post("/login", response_class=HTMLResponse, include_in_schema=False)
async def login(
    request: Request, conn: TransactionDep, engine: EngineDep, settings: SettingsDep
) -> Response:
    await csrf.require_token(request, settings.secret_key)
    form = await request.form()
    username = _form_text(form, "username").strip()
    target = safe_next(_form_text(form, "next"))
    context = {"next": target, "username": username}
    # Who tries is not known yet: the actor is the system, the target the name tried.
    tried, details = f"user:{username}", {"ip": _client(request)}
    try:
        user = await check_login(
            engine,
            username=username,
            password=_form_text(form, "password"),
            client=_client(request) or "",
        )
    except LoginLocked as locked:
        await audit(conn, actor="system", action="login.locked", target=tried, details=details)
        page = render_page(
            request,
            "login.html",
            {
                **context,
                "error": gettext(
                    "too many failed logins: try again in %(s)s s", s=locked.retry_after_seconds
                ),
            },
            settings=settings,
        )
        page.status_code = status.HTTP_429_TOO_MANY_REQUESTS
        page.headers["Retry-After"] = str(locked.retry_after_seconds)
        return page
    except LoginFailed as failed:
        await audit(conn, actor="system", action="login.failed", target=tried, details=details)
        page = render_page(
            request, "login.html", {**context, "error": gettext(failed.message)}, settings=settings
        )
        page.status_code = status.HTTP_401_UNAUTHORIZED
        return page
    if old := request.cookies.get(SESSION_COOKIE):
        await end_session(conn, token=old)
    token = await start_session(conn, user_id=user.id, ttl=SESSION_TTL)
    await audit(conn, actor=f"user:{user.username}", action="login.succeeded", details=details)
    response = RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(SESSION_TTL.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=csrf.cookies_secure(request),
    )
    csrf.rotate(request, response)
    return response


@router.post("/logout", include_in_schema=False)
async def logout(request: Request, conn: TransactionDep, settings: SettingsDep) -> Response:
    await csrf.require_token(request, settings.secret_key)
    if token := request.cookies.get(SESSION_COOKIE):
        user = await session_user(conn, token=token)
        await end_session(conn, token=token)
        if user is not None:
            await audit(conn, actor=f"user:{user.username}", action="logout")
    response = RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, samesite="lax", secure=csrf.cookies_secure(request)
    )
    csrf.rotate(request, response)
    return response


# --- Admin pages ---------------------------------------------------------------------


async def _users_page(
    request: Request,
    conn: TransactionDep,
    settings: SettingsDep,
    admin: Principal,
    **extra: Any,
) -> HTMLResponse:
    listed = await list_users(conn)
    # Only a listed user is named: a crafted link cannot put its own words on the page.
    created = next((u for u in listed if u.username == request.query_params.get("created")), None)
    context = {
        "users": listed,
        "roles": list(Role),
        "me": admin,
        "error": None,
        "form": {},
        "created": created,
    }
    return render_page(request, "admin_users.html", context | extra, settings=settings)


@router.get("/admin/users", response_class=HTMLResponse, include_in_schema=False)
async def users_page(
    request: Request, conn: TransactionDep, settings: SettingsDep, admin: AdminDep
) -> HTMLResponse:
    return await _users_page(request, conn, settings, admin)


@router.post("/admin/users", response_class=HTMLResponse, include_in_schema=False)
async def users_create(
    request: Request, conn: TransactionDep, settings: SettingsDep, admin: AdminDep
) -> Response:
    await csrf.require_token(request, settings.secret_key)
    form = await request.form()
    fields = {
        name: _form_text(form, name)
        for name in ("username", "display_name", "role", "stores", "locale")
    }
    try:
        user = await create_user(
            conn,
            username=fields["username"],
            password=_form_text(form, "password"),
            role=fields["role"],
            stores=_grantable(admin, fields["stores"] or settings.store_id),
            display_name=fields["display_name"] or None,
            locale=fields["locale"] or settings.shop_locale,
        )
    except ValueError as error:  # UserExists, WeakPassword, a bad name or role
        page = await _users_page(request, conn, settings, admin, error=str(error), form=fields)
        page.status_code = status.HTTP_422_UNPROCESSABLE_CONTENT
        return page
    await audit(
        conn,
        actor=admin.actor,
        action="user.created",
        target=f"user:{user.username}",
        details={"role": user.role, "stores": user.stores},
    )
    return RedirectResponse(
        f"/admin/users?created={quote(user.username)}", status_code=status.HTTP_303_SEE_OTHER
    )


@router.post("/admin/users/{username}/active", include_in_schema=False)
async def users_set_active(
    username: str, request: Request, conn: TransactionDep, settings: SettingsDep, admin: AdminDep
) -> Response:
    await csrf.require_token(request, settings.secret_key)
    active = _form_text(await request.form(), "active") == "1"
    # Case-blind, as usernames are: "ADMIN" is the admin too (and may be the last one).
    if not active and username.strip().lower() == admin.name.lower():
        raise HTTPException(status.HTTP_409_CONFLICT, detail="you cannot deactivate yourself")
    try:
        found = await set_user_active(conn, username=username, active=active)
    except LastAdmin as error:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(error)) from None
    if not found:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no user {username!r}")
    action = "user.activated" if active else "user.deactivated"
    await audit(conn, actor=admin.actor, action=action, target=f"user:{username}")
    return RedirectResponse("/admin/users", status_code=status.HTTP_303_SEE_OTHER)


@router.post("/admin/users/{username}/unlock", include_in_schema=False)
async def users_unlock(
    username: str, request: Request, conn: TransactionDep, settings: SettingsDep, admin: AdminDep
) -> Response:
    """Let a person held back by failed sign-ins in again, from every address."""
    await csrf.require_token(request, settings.secret_key)
    if not await user_exists(conn, username=username):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no user {username!r}")
    addresses = await unlock_user(conn, username=username)
    await audit(
        conn,
        actor=admin.actor,
        action="user.unlocked",
        target=f"user:{username.strip().lower()}",
        details={"addresses": addresses},
    )
    return RedirectResponse("/admin/users", status_code=status.HTTP_303_SEE_OTHER)


async def _keys_page(
    request: Request, conn: TransactionDep, settings: SettingsDep, **extra: Any
) -> HTMLResponse:
    context = {
        "keys": await list_api_keys(conn),
        "all_scopes": sorted(ALL_SCOPES),
        "error": None,
        "new_key": None,
        "form": {"name": "", "scopes": []},
    }
    return render_page(request, "admin_api_keys.html", context | extra, settings=settings)


@router.get("/admin/api-keys", response_class=HTMLResponse, include_in_schema=False)
async def api_keys_page(
    request: Request, conn: TransactionDep, settings: SettingsDep, admin: AdminDep
) -> HTMLResponse:
    return await _keys_page(request, conn, settings)


@router.post("/admin/api-keys", response_class=HTMLResponse, include_in_schema=False)
async def api_keys_create(
    request: Request, conn: TransactionDep, settings: SettingsDep, admin: AdminDep
) -> HTMLResponse:
    await csrf.require_token(request, settings.secret_key)
    form = await request.form()
    name = _form_text(form, "name")
    scopes = [value for value in form.getlist("scopes") if isinstance(value, str)]
    stores = _form_text(form, "stores")
    try:
        api_key, key = await create_api_key(
            conn,
            name=name,
            scopes=scopes,
            stores=_grantable(admin, stores or settings.store_id),
            created_by=admin.actor,
        )
    except ValueError as error:
        page = await _keys_page(
            request,
            conn,
            settings,
            error=str(error),
            form={"name": name, "scopes": scopes, "stores": stores},
        )
        page.status_code = status.HTTP_422_UNPROCESSABLE_CONTENT
        return page
    await _audit_key_created(conn, admin, api_key)
    page = await _keys_page(request, conn, settings, new_key=key, new_key_name=api_key.name)
    page.status_code = status.HTTP_201_CREATED
    page.headers["Cache-Control"] = "no-store"  # the page holds the full key
    return page


@router.post("/admin/api-keys/{prefix}/revoke", include_in_schema=False)
async def api_keys_revoke(
    prefix: str, request: Request, conn: TransactionDep, settings: SettingsDep, admin: AdminDep
) -> Response:
    await csrf.require_token(request, settings.secret_key)
    if not await revoke_api_key(conn, prefix=prefix, by=admin.actor):  # audits the revocation
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no active API key {prefix!r}")
    verified_keys(request).forget(prefix)
    return RedirectResponse("/admin/api-keys", status_code=status.HTTP_303_SEE_OTHER)


@router.get("/admin/audit", response_class=HTMLResponse, include_in_schema=False)
async def audit_page(
    request: Request,
    conn: TransactionDep,
    settings: SettingsDep,
    admin: AdminDep,
    before_id: int | None = None,
) -> HTMLResponse:
    limit = 200
    entries = await list_audit(conn, limit=limit, before_id=before_id)
    older = entries[-1].id if len(entries) == limit else None
    return render_page(
        request, "admin_audit.html", {"entries": entries, "older": older}, settings=settings
    )


def _grantable(by: Principal, stores: Iterable[str] | str) -> frozenset[str]:
    """The stores asked for, if `by` has each of them: nobody hands out a store of
    which they are not."""
    wanted = parse_stores(stores)
    foreign = sorted(wanted - by.stores)
    if foreign:
        raise ValueError(f"you cannot grant a store you do not have: {', '.join(foreign)}")
    return wanted


async def _audit_key_created(conn: AsyncConnection, by: Principal, api_key: ApiKey) -> None:
    await audit(
        conn,
        actor=by.actor,
        action="apikey.created",
        target=f"apikey:{api_key.prefix}",
        details={"name": api_key.name, "scopes": api_key.scopes, "stores": api_key.stores},
    )


# --- REST for integrations -----------------------------------------------------------


@router.get("/api/v1/audit", response_model=list[AuditEntry], tags=["auth"])
async def get_audit(
    conn: TransactionDep,
    principal: AuditReader,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    before_id: int | None = None,
) -> list[AuditEntry]:
    """The audit log, newest first; page with `before_id` (the last id you saw)."""
    return await list_audit(conn, limit=limit, before_id=before_id)


@router.get("/api/v1/api-keys", response_model=list[ApiKey], tags=["auth"])
async def get_api_keys(conn: TransactionDep, principal: KeyAdmin) -> list[ApiKey]:
    return await list_api_keys(conn)


@router.post(
    "/api/v1/api-keys",
    response_model=ApiKeyCreated,
    status_code=status.HTTP_201_CREATED,
    tags=["auth"],
    responses=problems(WITH_BODY),
)
async def post_api_key(
    body: ApiKeyIn, conn: TransactionDep, settings: SettingsDep, principal: KeyAdmin
) -> ApiKeyCreated:
    """Create a key for `stores` (default: this install's store; only stores the
    creator has). The answer holds the full key: it is shown this once."""
    try:
        api_key, key = await create_api_key(
            conn,
            name=body.name,
            scopes=body.scopes,
            stores=_grantable(principal, body.stores or [settings.store_id]),
            created_by=principal.actor,
        )
    except ValueError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(error)) from None
    await _audit_key_created(conn, principal, api_key)
    return ApiKeyCreated(api_key=api_key, key=key)


@router.delete(
    "/api/v1/api-keys/{prefix}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["auth"],
    responses=problems(404, 409),
)
async def delete_api_key(
    prefix: str, request: Request, conn: TransactionDep, principal: KeyAdmin
) -> Response:
    if principal.kind == "apikey" and principal.name == prefix:
        # An integration that revokes the key it calls with locks itself out for good.
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail="a key cannot revoke itself; use another admin key"
        )
    if not await revoke_api_key(conn, prefix=prefix, by=principal.actor):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no active API key {prefix!r}")
    verified_keys(request).forget(prefix)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
