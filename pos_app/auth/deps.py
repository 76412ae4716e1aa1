"""Who is asking: an API key (REST integrations) or a login session (the pages).

REST routes take `require_scope(...)`, pages take `require_role(...)`; both build on
`current_principal`, which FastAPI resolves once per request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, Response, Security, status
from fastapi.responses import RedirectResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from pos_app.auth.key_cache import VerifiedKeys
from pos_app.auth.navigation import pages_for
from pos_app.auth.roles import ALL_SCOPES, Role, role_allows, scopes_for
from pos_app.auth.service import bookkeeping, resolve_api_key, session_user
from pos_app.deps import EngineDep, SettingsDep
from pos_app.i18n import set_request_locale
from pos_app.security import csrf
from pos_app.settings import Settings

SESSION_COOKIE = csrf.SESSION_COOKIE
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
AUTH_REQUIRED = "authentication required: send an API key (Authorization: Bearer …) or log in"
INVALID_KEY = "invalid or revoked API key"

# Declares the API key in the OpenAPI document (so Swagger's Authorize sends it); the key
# itself is read by `presented_key`, which also takes X-API-Key and sign-in cookies.
bearer_key = HTTPBearer(
    auto_error=False,
    scheme_name="apiKey",
    description="An API key from an admin: `Authorization: Bearer pos_…`",
)


@dataclass(frozen=True)
class Principal:
    kind: Literal["user", "apikey"]
    name: str  # the username, or the key's prefix
    role: Role | None  # None for API keys: they carry scopes only
    scopes: frozenset[str]
    locale: str | None = None  # a person's language; API keys have none
    stores: frozenset[str] = frozenset()  # the stores whose data it may read and write
    key_name: str | None = None  # an API key's name ("web shop"), as its sales record it

    @property
    def actor(self) -> str:
        """As the audit log names it: "user:<name>" or "apikey:<prefix>"."""
        return f"{self.kind}:{self.name}"

    @property
    def seller(self) -> str:
        """Who a sale records as ringing it up: the person, or the key's name; never a
        name the request body claims."""
        return ((self.key_name if self.kind == "apikey" else None) or self.name)[:60]

    def store(self, wanted: str | None, settings: Settings) -> str:
        """The store a request asks about (`wanted`, else this install's), if this
        principal may see it; another store is 404, as if it did not exist."""
        store_id = wanted or settings.store_id
        if store_id not in self.stores:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no store {store_id}")
        return store_id


def check_store_member(principal: Principal, settings: Settings) -> None:
    """Every page and API call works on this install's store (POS_STORE_ID): a person
    or key of other stores only gets a 403 here."""
    if settings.store_id not in principal.stores:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"you are not bound to the store {settings.store_id}",
        )


class LoginRequired(Exception):
    """A page needs a login; `login_required_handler` turns this into a redirect."""

    def __init__(self, next_path: str = "/") -> None:
        super().__init__(next_path)
        self.next_path = next_path


def verified_keys(request: Request) -> VerifiedKeys:
    """The app's cache of keys verified a moment ago (made with the app's first request)."""
    state = request.app.state
    if not hasattr(state, "verified_keys"):
        state.verified_keys = VerifiedKeys()
    cache: VerifiedKeys = state.verified_keys
    return cache


def presented_key(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("x-api-key", "").strip() or None


async def current_principal(request: Request, engine: EngineDep) -> Principal | None:
    key = presented_key(request)
    if key is not None:
        verified = verified_keys(request)
        api_key = verified.get(key)
        if api_key is None:
            # Its own short transaction: it may write last_used_at, and must not begin the
            # request's unit of work (whose snapshot then starts with the route's first read).
            async with bookkeeping(engine) as conn:
                api_key = await resolve_api_key(conn, key=key)
            if api_key is not None:
                verified.put(key, api_key)
        if api_key is None:
            # A wrong key is an error even where anonymous access would do: say so.
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail=INVALID_KEY,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return Principal(
            "apikey",
            api_key.prefix,
            None,
            frozenset(api_key.scopes),
            stores=frozenset(api_key.stores),
            key_name=api_key.name,
        )
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    async with bookkeeping(engine) as conn:  # last_seen_at, likewise
        user = await session_user(conn, token=token)
    if user is None:
        return None
    # The person's language wins over the browser's for this request's pages.
    set_request_locale(request.scope.setdefault("state", {}), user.locale)
    return Principal(
        "user",
        user.username,
        user.role,
        scopes_for(user.role),
        user.locale,
        stores=frozenset(user.stores),
    )


PrincipalDep = Annotated[Principal | None, Depends(current_principal)]


def require_scope(scope: str) -> Callable[..., Awaitable[Principal]]:
    """For REST routes: a principal (key or login) holding `scope`, else 401/403."""
    return require_any_scope(scope)


def require_any_scope(*scopes: str) -> Callable[..., Awaitable[Principal]]:
    """For REST routes: a principal holding at least one of `scopes`, else 401/403 (the
    route may then ask more of it, e.g. a reorder point alone needs less than a price)."""
    unknown = [scope for scope in scopes if scope not in ALL_SCOPES]
    if unknown or not scopes:
        raise ValueError(f"unknown scope {unknown!r}")  # a typo must fail at import, not at 403
    needed = scopes[0] if len(scopes) == 1 else f"one of {', '.join(scopes)}"

    async def dependency(
        request: Request,
        principal: PrincipalDep,
        settings: SettingsDep,
        _key: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_key)],
    ) -> Principal:
        if principal is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail=AUTH_REQUIRED,
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not principal.scopes.intersection(scopes):
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"this needs the scope {needed}")
        check_store_member(principal, settings)
        if principal.kind == "user" and request.method not in SAFE_METHODS:
            # A browser sends the session cookie by itself: writes need the CSRF token too.
            await csrf.require_token(request, settings.secret_key)
        return principal

    return dependency


def require_role(role: Role) -> Callable[..., Awaitable[Principal]]:
    """For pages: a logged-in user whose role is `role` or above, else login or 403."""

    async def dependency(
        request: Request, principal: PrincipalDep, settings: SettingsDep
    ) -> Principal:
        if principal is None or principal.kind != "user" or principal.role is None:
            path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise LoginRequired(path)
        if not role_allows(principal.role, role):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"this page needs the {role} role; you are signed in as {principal.role}",
            )
        check_store_member(principal, settings)
        request.state.nav_links = pages_for(principal.role)  # the top bar: what this role opens
        return principal

    return dependency


async def login_required_handler(request: Request, exc: Exception) -> Response:
    """Register with `app.add_exception_handler(LoginRequired, login_required_handler)`."""
    if request.headers.get("HX-Request"):
        # htmx would swap a redirect's login page into a fragment: make it navigate instead.
        return Response(status_code=status.HTTP_401_UNAUTHORIZED, headers={"HX-Redirect": "/login"})
    next_path = exc.next_path if isinstance(exc, LoginRequired) else "/"
    return RedirectResponse(
        f"/login?next={quote(next_path, safe='/')}", status_code=status.HTTP_303_SEE_OTHER
    )


# One dependency object per role, so FastAPI resolves each once per request.
require_cashier = require_role(Role.cashier)
require_manager = require_role(Role.manager)
require_admin = require_role(Role.admin)

CashierDep = Annotated[Principal, Depends(require_cashier)]
ManagerDep = Annotated[Principal, Depends(require_manager)]
AdminDep = Annotated[Principal, Depends(require_admin)]
