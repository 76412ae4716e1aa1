"""The auth pieces that need no database: hashing, keys, roles, the dependencies'
answers (with the principal stubbed), and the two security middlewares."""

from __future__ import annotations

import hashlib
import re
import warnings
from collections.abc import Iterator
from datetime import timedelta
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI, HTTPException, Request
from starlette.applications import Starlette
from starlette.exceptions import StarletteDeprecationWarning
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from pos_app.auth import passwords
from pos_app.auth.deps import (
    AdminDep,
    LoginRequired,
    ManagerDep,
    Principal,
    current_principal,
    login_required_handler,
    require_scope,
)
from pos_app.auth.roles import (
    ALL_SCOPES,
    REPORTS_READ,
    ROLE_SCOPES,
    SALES_WRITE,
    Role,
    role_allows,
    scopes_for,
)
from pos_app.auth.routes import router as auth_router
from pos_app.auth.routes import safe_next
from pos_app.auth.service import (
    key_prefix,
    lock_duration,
    new_api_key,
    new_api_key_values,
    new_user_values,
    normalise_username,
    parse_scopes,
    sha256_hex,
)
from pos_app.deps import get_engine, get_transaction
from pos_app.security.middleware import (
    CONTENT_SECURITY_POLICY,
    BodySizeLimitMiddleware,
    SecurityHeadersMiddleware,
)
from pos_app.settings import Settings

with warnings.catch_warnings():
    # Starlette 1.x asks for httpx2 behind its test client; the project pins httpx.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

ReportsReader = Annotated[Principal, Depends(require_scope(REPORTS_READ))]

# --- Passwords ------------------------------------------------------------------------


def test_a_password_hash_is_argon2id_and_verifies_only_the_password() -> None:
    hashed = passwords.hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert passwords.verify_password(hashed, "correct horse battery")
    assert not passwords.verify_password(hashed, "correct horse battery!")
    assert not passwords.verify_password("not-a-hash", "correct horse battery")
    assert not passwords.needs_rehash(hashed)


def test_a_short_password_is_refused_with_the_reason() -> None:
    with pytest.raises(passwords.WeakPassword, match="at least 10 characters"):
        passwords.hash_password("short")
    assert issubclass(passwords.WeakPassword, ValueError)


def test_new_user_values_check_name_and_role_and_never_keep_the_password() -> None:
    values = new_user_values(
        username="  Thandar ", password="0123456789", role="manager", stores="yangon-1, bago-2"
    )
    assert values["username"] == "thandar"
    assert values["stores"] == "bago-2 yangon-1"
    assert values["display_name"] == "thandar"
    assert values["role"] == "manager"
    assert "0123456789" not in values.values()
    with pytest.raises(ValueError, match="unknown role"):
        new_user_values(username="aye", password="0123456789", role="owner", stores="yangon-1")
    for no_store in ("", " , ", []):
        with pytest.raises(ValueError, match="at least one store"):
            new_user_values(username="aye", password="0123456789", role="admin", stores=no_store)
    with pytest.raises(ValueError, match="not a store id"):
        new_user_values(username="aye", password="0123456789", role="admin", stores="a;b")
    for bad in ("a", "has space", "_leading", "x" * 61):
        with pytest.raises(ValueError, match="username"):
            normalise_username(bad)


# --- Keys and tokens --------------------------------------------------------------------


def test_an_api_key_is_pos_prefix_secret_and_stored_as_its_sha256() -> None:
    prefix, key = new_api_key()
    assert re.fullmatch(r"[a-z0-9]{8}", prefix)
    assert re.fullmatch(rf"pos_{prefix}_[A-Za-z0-9_-]{{43}}", key)  # 32 bytes, urlsafe
    assert key_prefix(key) == prefix
    assert new_api_key() != (prefix, key)

    values, full = new_api_key_values(
        name=" till sync ",
        scopes=["sales:read", "catalog:read"],
        stores=["yangon-1"],
        created_by="posctl",
    )
    assert values["stores"] == "yangon-1"
    assert values["name"] == "till sync"
    assert values["key_hash"] == hashlib.sha256(full.encode()).hexdigest() == sha256_hex(full)
    assert values["scopes"] == "catalog:read sales:read"
    assert full not in values.values()


@pytest.mark.parametrize(
    "key", ["", "pos_", "pos_abcdefgh_", "pos_ABCDEFGH_secret", "api_abcdefgh_secret", "pos_abc_s"]
)
def test_malformed_keys_have_no_prefix(key: str) -> None:
    assert key_prefix(key) is None


def test_unknown_or_no_scopes_are_refused() -> None:
    with pytest.raises(ValueError, match=r"unknown scope.*sales:delete"):
        parse_scopes(["sales:read", "sales:delete"])
    with pytest.raises(ValueError, match="at least one scope"):
        parse_scopes([])
    assert parse_scopes("sales:read  stock:read") == {"sales:read", "stock:read"}


def test_lockout_starts_at_the_fifth_failure_and_doubles_up_to_15_minutes() -> None:
    assert [lock_duration(n) for n in range(1, 5)] == [None] * 4
    assert lock_duration(5) == timedelta(seconds=30)
    assert lock_duration(6) == timedelta(seconds=60)
    assert lock_duration(8) == timedelta(seconds=240)
    assert lock_duration(10) == lock_duration(500) == timedelta(minutes=15)


# --- Roles and principals ---------------------------------------------------------------


def test_roles_carry_their_scopes() -> None:
    assert SALES_WRITE in scopes_for(Role.cashier)
    assert REPORTS_READ not in scopes_for(Role.cashier)
    assert REPORTS_READ in scopes_for("manager")
    assert "users:admin" not in scopes_for(Role.manager)
    assert scopes_for(Role.admin) == ALL_SCOPES
    assert ROLE_SCOPES[Role.cashier] < ROLE_SCOPES[Role.manager] < ROLE_SCOPES[Role.admin]


def test_each_role_can_do_what_the_roles_below_it_can() -> None:
    assert role_allows(Role.admin, Role.manager)
    assert role_allows(Role.manager, Role.manager)
    assert not role_allows(Role.cashier, Role.manager)
    assert not role_allows(Role.manager, Role.admin)


def test_a_principal_names_itself_as_the_audit_log_does() -> None:
    user = Principal("user", "thandar", Role.manager, scopes_for(Role.manager))
    key = Principal("apikey", "abcd1234", None, frozenset({"sales:read"}))
    assert user.actor == "user:thandar"
    assert key.actor == "apikey:abcd1234"


def test_require_scope_refuses_a_misspelt_scope_at_import() -> None:
    with pytest.raises(ValueError, match="unknown scope"):
        require_scope("report:read")


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/reports?month=3", "/reports?month=3"),
        ("/admin/users", "/admin/users"),
        ("//evil.com", "/"),
        ("//evil.com/admin", "/"),
        ("/\\evil.com", "/"),
        ("https://evil.com/", "/"),
        ("evil.com", "/"),
        ("/ok\r\nSet-Cookie: x=1", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_the_next_target_after_login_stays_on_this_site(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


# --- The dependencies' answers, with the principal stubbed (no database) ---------------


def _app(principal: Principal | None) -> FastAPI:
    app = FastAPI()
    app.state.settings = Settings()
    app.add_exception_handler(LoginRequired, login_required_handler)
    app.include_router(auth_router)
    app.dependency_overrides[current_principal] = lambda: principal
    app.dependency_overrides[get_transaction] = lambda: None  # these checks come before any query
    app.dependency_overrides[get_engine] = lambda: None

    @app.get("/api/v1/reports-demo")
    async def reports(who: ReportsReader) -> dict[str, str]:
        return {"actor": who.actor}

    @app.get("/manager-page")
    async def manager_page(who: ManagerDep) -> dict[str, str]:
        return {"actor": who.actor}

    @app.get("/admin-page")
    async def admin_page(who: AdminDep) -> dict[str, str]:
        return {"actor": who.actor}

    return app


@pytest.fixture
def as_nobody() -> Iterator[TestClient]:
    with TestClient(_app(None), follow_redirects=False) as client:
        yield client


def _client_as(role: Role, stores: frozenset[str] = frozenset({Settings().store_id})) -> TestClient:
    return TestClient(
        _app(Principal("user", "aye", role, scopes_for(role), stores=stores)),
        follow_redirects=False,
    )


def test_without_credentials_the_api_answers_401_with_a_bearer_challenge(
    as_nobody: TestClient,
) -> None:
    response = as_nobody.get("/api/v1/reports-demo")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["detail"].startswith("authentication required: send an API key")


def test_a_key_without_the_scope_gets_403_naming_it() -> None:
    key = Principal(
        "apikey", "abcd1234", None, scopes_for(Role.cashier), stores=frozenset({"yangon-1"})
    )
    with TestClient(_app(key)) as client:
        response = client.get("/api/v1/reports-demo")
    assert response.status_code == 403
    assert response.json() == {"detail": "this needs the scope reports:read"}


def test_a_page_sends_a_stranger_to_the_login_with_the_way_back(as_nobody: TestClient) -> None:
    response = as_nobody.get("/admin-page?tab=keys")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/admin-page%3Ftab%3Dkeys"
    htmx = as_nobody.get("/admin-page", headers={"HX-Request": "true"})
    assert htmx.status_code == 401
    assert htmx.headers["HX-Redirect"] == "/login"


def test_a_page_refuses_a_role_too_low_and_admits_a_higher_one() -> None:
    with _client_as(Role.cashier) as client:
        assert client.get("/manager-page").status_code == 403
    with _client_as(Role.admin) as client:
        assert client.get("/manager-page").json() == {"actor": "user:aye"}
        assert client.get("/admin-page").status_code == 200
    with _client_as(Role.manager) as client:
        assert client.get("/admin-page").status_code == 403


def test_the_login_page_renders_a_labelled_form_with_a_csrf_token(as_nobody: TestClient) -> None:
    page = as_nobody.get("/login?next=//evil.com")
    assert page.status_code == 200
    assert '<label for="username">' in page.text and '<label for="password">' in page.text
    assert 'name="csrf_token" value="' in page.text
    assert 'name="next" value="/"' in page.text
    assert "pos_csrf" in page.cookies


def test_login_without_a_csrf_token_is_refused(as_nobody: TestClient) -> None:
    response = as_nobody.post("/login", data={"username": "aye", "password": "x" * 12})
    assert response.status_code == 403


# --- Middlewares ------------------------------------------------------------------------


async def _echo(request: Request) -> PlainTextResponse:
    body = await request.body()
    return PlainTextResponse(f"{len(body)} bytes")


def _tiny_app(max_bytes: int) -> Starlette:
    app = Starlette(routes=[Route("/", _echo, methods=["GET", "POST"])])
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=max_bytes)
    app.add_middleware(SecurityHeadersMiddleware)
    return app


def test_every_answer_carries_the_security_headers() -> None:
    with TestClient(_tiny_app(100)) as client:
        response = client.get("/")
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self';" in CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Permissions-Policy"] == "camera=(), microphone=(), geolocation=()"


def test_a_body_within_the_limit_passes() -> None:
    with TestClient(_tiny_app(100)) as client:
        response = client.post("/", content=b"x" * 100)
    assert response.status_code == 200
    assert response.text == "100 bytes"


def test_a_declared_oversized_body_gets_413_before_it_is_read() -> None:
    with TestClient(_tiny_app(100)) as client:
        response = client.post("/", content=b"x" * 101)
    assert response.status_code == 413
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json() == {
        "type": "about:blank",
        "title": "Request Entity Too Large",
        "status": 413,
        "detail": "request body larger than 100 bytes",
        "code": "too_large",
    }
    assert response.headers["X-Frame-Options"] == "DENY"  # the 413 is dressed too


def test_a_streamed_body_that_grows_past_the_limit_gets_413() -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(5):
            yield b"x" * 40

    with TestClient(_tiny_app(100)) as client:
        response = client.post("/", content=chunks())  # chunked: no Content-Length
    assert response.status_code == 413
    assert response.json()["detail"] == "request body larger than 100 bytes"


def test_fastapi_form_parsing_keeps_the_413() -> None:
    app = FastAPI()
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=50)

    @app.post("/form")
    async def form(request: Request) -> dict[str, int]:
        return {"fields": len(await request.form())}

    def chunks() -> Iterator[bytes]:
        yield b"a=" + b"x" * 30
        yield b"&b=" + b"y" * 30

    with TestClient(app) as client:
        response = client.post(
            "/form",
            content=chunks(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert response.status_code == 413
    assert response.json()["detail"] == "request body larger than 50 bytes"


def test_a_person_or_key_of_another_store_is_refused_everywhere_here() -> None:
    """This install serves POS_STORE_ID: anyone bound only to other stores gets 403 on
    its pages and its API, whatever their role or scopes."""
    elsewhere = frozenset({"somewhere-else"})
    with _client_as(Role.admin, stores=elsewhere) as client:
        for path in ("/admin-page", "/manager-page", "/api/v1/reports-demo"):
            response = client.get(path)
            assert response.status_code == 403, path
            assert "not bound to the store" in response.json()["detail"]
    key = Principal("apikey", "abcd1234", None, scopes_for(Role.admin), stores=elsewhere)
    with TestClient(_app(key)) as client:
        assert client.get("/api/v1/reports-demo").status_code == 403
    with _client_as(Role.admin, stores=elsewhere | {Settings().store_id}) as client:
        assert client.get("/api/v1/reports-demo").status_code == 200


def test_a_principal_reaches_only_its_own_stores_by_name() -> None:
    settings = Settings()
    who = Principal(
        "user", "aye", Role.manager, scopes_for(Role.manager), stores=frozenset({"a-1", "b-2"})
    )
    assert who.store("b-2", settings) == "b-2"
    with pytest.raises(HTTPException) as refused:
        who.store("c-3", settings)
    assert refused.value.status_code == 404
