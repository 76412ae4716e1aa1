"""Who reaches what: every route against every role, API keys, CSRF, lockout, headers."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from sqlalchemy import Engine, func, text, update

from pos_app.auth.cli import create_user_sync
from pos_app.db.tables import refill_plan_runs
from pos_app.main import create_app
from pos_app.settings import Settings
from tests.stack_support import log_in, running_app

pytestmark = pytest.mark.stack

ROLES = ("anonymous", "cashier", "manager", "admin")
SALE = {"lines": [{"sku": "BAG-SHN-GLD", "quantity": 1}]}

# (method, path, body, the lowest role that may use it). Pages send the anonymous to
# the login page (303); the REST API answers 401 without credentials and 403 without
# the scope. "public" routes need no sign-in.
ROUTES: list[tuple[str, str, Any, str]] = [
    ("GET", "/health/live", None, "public"),
    ("GET", "/health/ready", None, "public"),
    ("GET", "/health", None, "manager"),
    ("GET", "/metrics", None, "manager"),
    ("GET", "/login", None, "public"),
    ("GET", "/", None, "cashier"),
    ("GET", "/counter/stock", None, "cashier"),
    ("GET", "/counter/cart", None, "cashier"),
    ("GET", "/counter/alerts", None, "cashier"),
    ("GET", "/counter/sales", None, "cashier"),
    ("GET", "/counter/receipts/NOSALE", None, "cashier"),
    ("POST", "/counter/scan", {"code": "BAG-SHN-GLD"}, "cashier"),
    ("POST", "/counter/cart/add", {"sku": "BAG-SHN-GLD"}, "cashier"),
    ("POST", "/counter/cart/line", {"sku": "BAG-SHN-GLD", "quantity": "2"}, "cashier"),
    ("POST", "/counter/cart/remove", {"sku": "BAG-SHN-GLD"}, "cashier"),
    ("POST", "/counter/cart/hold", {}, "cashier"),
    ("POST", "/counter/cart/resume", {"cart_id": "0"}, "cashier"),
    ("POST", "/counter/cart/void", {}, "cashier"),
    ("POST", "/counter/cart/discount", {"kind": "percent", "value": "5"}, "cashier"),
    ("POST", "/counter/pay", {"method": "card"}, "cashier"),
    ("GET", "/counter/returns", None, "cashier"),
    ("POST", "/counter/returns", {"sale_id": "NOSALE", "reason": "x", "qty_1": "1"}, "cashier"),
    ("GET", "/manager/pipeline", None, "manager"),
    ("GET", "/manager/low-stock", None, "manager"),
    ("GET", "/manager/dashboard", None, "manager"),
    ("GET", "/manager/top-products", None, "manager"),
    ("GET", "/manager/refill-plan", None, "manager"),
    ("GET", "/manager/today", None, "manager"),
    ("GET", "/manager/today/live", None, "manager"),
    ("GET", "/live/events", None, "cashier"),
    ("POST", "/manager/today/alerts/0/acknowledge", {}, "manager"),
    ("GET", "/manager/low-stock.csv", None, "manager"),
    ("POST", "/manager/products/BAG-SHN-GLD/reorder-point", {"reorder_point": "5"}, "manager"),
    ("GET", "/manager/stock-movements", None, "manager"),
    ("GET", "/manager/products", None, "manager"),
    ("GET", "/manager/products/new", None, "manager"),
    ("POST", "/manager/products/new", {"sku": ""}, "manager"),
    ("GET", "/manager/products/family", None, "manager"),
    ("POST", "/manager/products/family", {"sku_prefix": ""}, "manager"),
    ("GET", "/manager/products/BAG-SHN-GLD/edit", None, "manager"),
    ("POST", "/manager/products/BAG-SHN-GLD/edit", {"name": ""}, "manager"),
    ("GET", "/manager/labels", None, "manager"),
    ("GET", "/manager/labels/print", None, "manager"),
    ("GET", "/manager/catalog/export.csv", None, "manager"),
    ("GET", "/manager/catalog/export.xlsx", None, "manager"),
    ("GET", "/manager/catalog/import", None, "manager"),
    ("POST", "/manager/catalog/import", {}, "manager"),
    ("POST", "/manager/catalog/import/nodraft/confirm", {}, "manager"),
    ("GET", "/manager/stock-counts", None, "manager"),
    ("POST", "/manager/stock-counts", {}, "manager"),
    ("GET", "/manager/suppliers", None, "manager"),
    ("POST", "/manager/suppliers", {"name": ""}, "manager"),
    ("GET", "/manager/purchase-orders", None, "manager"),
    ("POST", "/manager/purchase-orders", {"supplier_id": "0"}, "manager"),
    ("GET", "/manager/purchase-orders/NOPO", None, "manager"),
    ("GET", "/manager/transfers", None, "manager"),
    ("POST", "/manager/transfers", {"to_store_id": ""}, "manager"),
    ("GET", "/manager/transfers/NOTR", None, "manager"),
    ("POST", "/manager/transfers/NOTR/receive", {}, "manager"),
    ("POST", "/manager/purchase-orders/NOPO/order", {}, "manager"),
    (
        "POST",
        "/manager/stock-movements",
        {"kind": "receipt", "sku": "X", "quantity": "0"},
        "manager",
    ),
    ("GET", "/admin/users", None, "admin"),
    ("POST", "/admin/users", {"username": "x", "password": "short", "role": "cashier"}, "admin"),
    ("POST", "/admin/users/nobody/active", {"active": "false"}, "admin"),
    ("POST", "/admin/users/nobody/unlock", {}, "admin"),
    ("POST", "/admin/users/nobody/locale", {"locale": "en"}, "admin"),
    ("POST", "/account/language", {"locale": "en"}, "cashier"),
    ("GET", "/account/pin", None, "manager"),
    ("POST", "/account/pin", {"pin": "12", "pin_again": "12"}, "manager"),
    ("GET", "/admin/tax", None, "admin"),
    ("POST", "/admin/tax", {"mode": "bogus", "rate": "5"}, "admin"),
    ("GET", "/api/v1/settings/tax", None, "manager"),
    ("PUT", "/api/v1/settings/tax", {"mode": "bogus", "rate": "5"}, "admin"),
    ("GET", "/admin/api-keys", None, "admin"),
    ("POST", "/admin/api-keys", {"name": "k", "scopes": "stock:read"}, "admin"),
    ("POST", "/admin/api-keys/nosuchkey/revoke", {}, "admin"),
    ("GET", "/admin/audit", None, "admin"),
    ("GET", "/api/v1/products", None, "cashier"),
    ("POST", "/api/v1/products", {"sku": ""}, "manager"),
    ("GET", "/api/v1/stock", None, "cashier"),
    ("GET", "/api/v1/stock/low", None, "cashier"),
    ("GET", "/api/v1/stock/low.csv", None, "cashier"),
    ("PATCH", "/api/v1/products/BAG-SHN-GLD", {"reorder_point": 5}, "manager"),
    ("POST", "/api/v1/sales", SALE, "cashier"),
    ("GET", "/api/v1/sales/NOSALE", None, "cashier"),
    # A refund is a manager's task: returns:write (a cashier refunds at the counter only,
    # with a manager's PIN).
    ("POST", "/api/v1/sales/NOSALE/returns", {"reason": "x", "lines": []}, "manager"),
    (
        "POST",
        "/api/v1/sales/NOSALE/exchanges",
        {"take_back": {"reason": "x", "lines": []}, "lines": []},
        "manager",
    ),
    ("POST", "/api/v1/inventory/receipts", {"lines": []}, "manager"),
    ("POST", "/api/v1/inventory/adjustments", {"reason": "count", "lines": []}, "manager"),
    ("POST", "/api/v1/inventory/counts", {"lines": []}, "manager"),
    ("POST", "/api/v1/transfers", {"to_store_id": "x", "lines": []}, "manager"),
    ("GET", "/api/v1/suppliers", None, "manager"),
    ("POST", "/api/v1/suppliers", {"name": ""}, "manager"),
    ("PATCH", "/api/v1/suppliers/0", {"lead_time_days": 3}, "manager"),
    ("GET", "/api/v1/purchase-orders", None, "manager"),
    ("POST", "/api/v1/purchase-orders", {"supplier_id": 0, "from_plan": True}, "manager"),
    ("GET", "/api/v1/purchase-orders/NOPO", None, "manager"),
    ("POST", "/api/v1/purchase-orders/NOPO/order", None, "manager"),
    ("POST", "/api/v1/purchase-orders/NOPO/cancel", None, "manager"),
    ("POST", "/api/v1/purchase-orders/NOPO/receive", {"lines": []}, "manager"),
    ("POST", "/api/v1/catalog/imports", None, "manager"),
    ("POST", "/api/v1/catalog/imports/nodraft/confirm", None, "manager"),
    ("GET", "/api/v1/transfers", None, "cashier"),
    ("POST", "/api/v1/transfers/NOTR/receive", None, "manager"),
    ("GET", "/api/v1/alerts", None, "cashier"),
    ("POST", "/api/v1/alerts/0/acknowledge", None, "manager"),
    ("GET", "/api/v1/events/rejected", None, "manager"),
    ("GET", "/api/v1/reports/summary", None, "manager"),
    ("GET", "/api/v1/reports/dashboard", None, "manager"),
    ("GET", "/api/v1/reports/sales", None, "manager"),
    ("GET", "/api/v1/reports/top-products", None, "manager"),
    ("GET", "/api/v1/reports/refill-plan", None, "manager"),
    ("GET", "/api/v1/reports/today", None, "manager"),
    ("GET", "/api/v1/reports/payments", None, "manager"),
    ("GET", "/manager/payments", None, "manager"),
    ("GET", "/api/v1/reports/tax", None, "manager"),
    ("GET", "/manager/tax", None, "manager"),
    ("GET", "/counter/shift", None, "cashier"),
    ("POST", "/counter/shift/open", {"opening_float": "x"}, "cashier"),
    ("POST", "/counter/shift/cash", {"kind": "out", "amount": "0"}, "cashier"),
    ("POST", "/counter/shift/close", {"note_50": "x"}, "cashier"),
    ("GET", "/counter/shifts/0/report", None, "cashier"),
    ("GET", "/manager/shifts", None, "manager"),
    ("GET", "/r/BADTOKEN", None, "public"),
    ("GET", "/api/v1/audit", None, "admin"),
    ("GET", "/api/v1/api-keys", None, "admin"),
    ("POST", "/api/v1/api-keys", {"name": "k", "scopes": ["stock:read"]}, "admin"),
    ("DELETE", "/api/v1/api-keys/nosuchkey", None, "admin"),
]
NOT_ROUTES = {"/openapi.json", "/docs"}
# Signing in and out have tests of their own below.
NOT_TABLED = {("POST", "/login"), ("POST", "/logout")}


def api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # FastAPI wraps included routers
            yield from api_routes(route.original_router.routes)


def test_the_table_covers_every_route() -> None:
    served = {
        (method, route.path)
        for route in api_routes(create_app().routes)
        if route.path not in NOT_ROUTES
        for method in route.methods
    }
    assert ("GET", "/health/ready") in served
    tabled = {
        (
            method,
            path.replace("nobody", "{username}")
            .replace("nosuchkey", "{prefix}")
            .replace("/BAG-SHN-GLD", "/{sku}")
            .replace("/NOSALE", "/{sale_id}")
            .replace("/alerts/0/", "/alerts/{alert_id}/")
            .replace("/nodraft/", "/{draft_id}/")
            .replace(
                "/manager/purchase-orders/NOPO/order", "/manager/purchase-orders/{po_id}/{action}"
            )
            .replace("/NOPO", "/{po_id}")
            .replace("/NOTR", "/{transfer_id}")
            .replace("/suppliers/0", "/suppliers/{supplier_id}")
            .replace("/shifts/0/", "/shifts/{shift_id}/")
            .replace("/r/BADTOKEN", "/r/{token}")
            .replace("{a}", "{action}"),
        )
        for method, path, _, _ in ROUTES
    }
    assert served - NOT_TABLED == tabled


@pytest.fixture(scope="module")
def clients(app_url: str, users: dict[str, str]) -> Iterator[dict[str, tuple[httpx.Client, str]]]:
    """A signed-in browser per role (and one signed out), each with its CSRF token."""
    made: dict[str, tuple[httpx.Client, str]] = {}
    for role in ROLES:
        client = httpx.Client(base_url=app_url, timeout=15, follow_redirects=False)
        if role == "anonymous":
            page = client.get("/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert token is not None
            made[role] = (client, token.group(1))
        else:
            made[role] = (client, log_in(client, role, users[role]))
    yield made
    for client, _ in made.values():
        client.close()


def is_rest(path: str) -> bool:
    """REST routes answer 401/403; pages redirect to the login page."""
    return path.startswith(("/api/", "/health", "/metrics"))


def send(client: httpx.Client, method: str, path: str, body: Any, token: str) -> httpx.Response:
    """One request as the table's roles make it; an event stream's body is left unread
    (it never ends), its status and headers are the answer."""
    headers = {"X-CSRF-Token": token}
    if is_rest(path):
        request = client.build_request(method, path, json=body, headers=headers)
    else:
        form = {**body, "csrf_token": token} if body is not None else None
        request = client.build_request(method, path, data=form, headers=headers)
    response = client.send(request, stream=True)
    try:
        if not response.headers.get("content-type", "").startswith("text/event-stream"):
            response.read()
    finally:
        response.close()
    return response


def allowed(role: str, lowest: str) -> bool:
    return lowest == "public" or (role != "anonymous" and ROLES.index(role) >= ROLES.index(lowest))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "path", "body", "lowest"), ROUTES, ids=[f"{m} {p}" for m, p, _, _ in ROUTES]
)
def test_each_role_reaches_exactly_what_it_should(
    clients: dict[str, tuple[httpx.Client, str]],
    role: str,
    method: str,
    path: str,
    body: Any,
    lowest: str,
) -> None:
    client, token = clients[role]
    response = send(client, method, path, body, token)
    if allowed(role, lowest):
        assert response.status_code not in (401, 403), response.text[:300]
        assert response.status_code < 500
        # A page may redirect after a form post, but never to the login page.
        assert not response.headers.get("location", "").startswith("/login")
    elif role == "anonymous":
        expected = 401 if is_rest(path) else 303
        assert response.status_code == expected, response.text[:300]
    else:
        assert response.status_code == 403, response.text[:300]


@pytest.fixture(scope="module")
def stranger(app_url: str, settings: Settings) -> Iterator[tuple[httpx.Client, str]]:
    """An admin of another store only: every role, no store of this install's."""
    username, password = f"elsewhere-{uuid.uuid4().hex[:6]}", f"pw-{uuid.uuid4().hex}"
    create_user_sync(
        settings, username=username, password=password, role="admin", stores=["other-store"]
    )
    client = httpx.Client(base_url=app_url, timeout=15, follow_redirects=False)
    first = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert first is not None
    form = {"username": username, "password": password, "csrf_token": first.group(1)}
    assert client.post("/login", data=form).status_code == 303
    # No page of this store opens for them: the login page gives the session's token.
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token is not None
    yield client, token.group(1)
    client.close()


@pytest.mark.parametrize(
    ("method", "path", "body", "lowest"), ROUTES, ids=[f"{m} {p}" for m, p, _, _ in ROUTES]
)
def test_a_person_of_another_store_reaches_only_the_public_routes(
    stranger: tuple[httpx.Client, str], method: str, path: str, body: Any, lowest: str
) -> None:
    """The table's stores column: this install serves its own store (POS_STORE_ID), so
    someone bound to other stores only is refused on every route that needs sign-in,
    however high their role."""
    client, token = stranger
    response = send(client, method, path, body, token)
    if lowest == "public":
        assert response.status_code not in (401, 403), response.text[:300]
    else:
        assert response.status_code == 403, response.text[:300]
        assert "not bound to the store" in response.text


def _top_bar(client: httpx.Client, path: str) -> list[str]:
    page = client.get(path)
    assert page.status_code == 200, page.text[:300]
    nav = re.search(r'<nav aria-label="Pages">(.*?)</nav>', page.text, re.S)
    assert nav is not None
    return re.findall(r'href="([^"]+)"', nav.group(1))


@pytest.mark.parametrize("role", ROLES)
def test_the_top_bar_links_exactly_the_pages_the_role_opens(
    clients: dict[str, tuple[httpx.Client, str]], role: str
) -> None:
    every = _top_bar(clients["admin"][0], "/")
    assert {"/", "/manager/today", "/manager/refill-plan", "/admin/audit"} <= set(every)
    lowest = {path: needed for method, path, _, needed in ROUTES if method == "GET"}
    expected = [path for path in every if allowed(role, lowest[path])]
    client = clients[role][0]
    seen = _top_bar(client, "/login" if role == "anonymous" else "/")
    if role == "anonymous":
        expected = []  # the login page links nowhere
    assert seen == expected
    for path in seen:
        assert client.get(path).status_code == 200, path


def test_an_api_key_reaches_only_its_scopes(app_url: str, api: httpx.Client) -> None:
    created = api.post("/api/v1/api-keys", json={"name": "stock reader", "scopes": ["stock:read"]})
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    with httpx.Client(base_url=app_url, headers={"X-API-Key": key}) as reader:
        assert reader.get("/api/v1/stock").status_code == 200
        refused = reader.post("/api/v1/sales", json=SALE)
        assert refused.status_code == 403
        assert "sales:write" in refused.json()["detail"]


def test_sales_write_does_not_allow_refunds_returns_write_does(
    app_url: str, api: httpx.Client
) -> None:
    keys = {}
    for scope in ("sales:write", "returns:write"):
        created = api.post("/api/v1/api-keys", json={"name": scope, "scopes": [scope]})
        assert created.status_code == 201, created.text
        keys[scope] = created.json()["key"]
    sale = api.post("/api/v1/sales", json=SALE)
    assert sale.status_code == 201, sale.text
    back = {"reason": "wrong size", "lines": [{"line_no": 1, "quantity": 1}]}
    path = f"/api/v1/sales/{sale.json()['sale_id']}/returns"
    with httpx.Client(base_url=app_url, headers={"X-API-Key": keys["sales:write"]}) as till:
        refused = till.post(path, json=back)
        assert refused.status_code == 403
        assert "returns:write" in refused.json()["detail"]
    with httpx.Client(base_url=app_url, headers={"X-API-Key": keys["returns:write"]}) as office:
        taken = office.post(path, json=back)
        assert taken.status_code == 201, taken.text


def test_a_revoked_key_stops_working_at_once(app_url: str, api: httpx.Client) -> None:
    created = api.post("/api/v1/api-keys", json={"name": "till 2", "scopes": ["stock:read"]})
    key, prefix = created.json()["key"], created.json()["api_key"]["prefix"]
    with httpx.Client(base_url=app_url, headers={"Authorization": f"Bearer {key}"}) as till:
        assert till.get("/api/v1/stock").status_code == 200
        assert api.delete(f"/api/v1/api-keys/{prefix}").status_code == 204
        refused = till.get("/api/v1/stock")
        assert refused.status_code == 401
        assert "revoked" in refused.json()["detail"]
    log = api.get("/api/v1/audit").json()
    assert any(e["action"] == "apikey.revoked" and prefix in (e["target"] or "") for e in log)


def test_no_credentials_is_401_and_a_bad_key_too(app_url: str) -> None:
    anonymous = httpx.get(f"{app_url}/api/v1/stock")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    forged = httpx.get(f"{app_url}/api/v1/stock", headers={"Authorization": "Bearer pos_x_y"})
    assert forged.status_code == 401


def test_repeated_failed_logins_are_slowed(app_url: str, settings: Settings) -> None:
    # A user of its own: the lock must not shut out the tests that sign in as manager.
    username, password = f"locked-{uuid.uuid4().hex[:8]}", f"pw-{uuid.uuid4().hex}"
    create_user_sync(settings, username=username, password=password, role="manager")
    with httpx.Client(base_url=app_url, follow_redirects=False) as client:
        page = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        codes = []
        for _ in range(6):
            response = client.post(
                "/login",
                data={
                    "username": username,
                    "password": "wrong",
                    "csrf_token": token.group(1),
                    "next": "/",
                },
            )
            codes.append(response.status_code)
        assert codes[:4] == [401] * 4
        assert codes[4:] == [429, 429]
        assert int(response.headers["retry-after"]) > 0
        # Even the right password waits until the lock ends.
        right = client.post(
            "/login",
            data={
                "username": username,
                "password": password,
                "csrf_token": token.group(1),
                "next": "/",
            },
        )
        assert right.status_code == 429


def test_a_login_form_without_csrf_is_refused(app_url: str, users: dict[str, str]) -> None:
    response = httpx.post(
        f"{app_url}/login", data={"username": "cashier", "password": users["cashier"]}
    )
    assert response.status_code == 403


def test_pages_carry_security_headers(app_url: str) -> None:
    headers = httpx.get(f"{app_url}/login").headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"


def test_an_oversized_body_is_refused(api: httpx.Client) -> None:
    response = api.post(
        "/api/v1/sales",
        content=b"{" + b" " * 300_000 + b"}",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413


def test_a_sale_is_in_the_audit_log_under_its_cashier(api: httpx.Client) -> None:
    sale = api.post("/api/v1/sales", json=SALE).json()
    log = api.get("/api/v1/audit").json()
    entry = next(e for e in log if e["target"] == f"sale:{sale['sale_id']}")
    assert entry["action"] == "sale.completed"
    assert entry["actor"].startswith("apikey:")


def test_a_key_rings_up_under_its_own_name_whatever_the_body_says(
    app_url: str, api: httpx.Client
) -> None:
    created = api.post("/api/v1/api-keys", json={"name": "web shop", "scopes": ["sales:write"]})
    key = created.json()["key"]
    with httpx.Client(base_url=app_url, headers={"X-API-Key": key}) as web_shop:
        sale = web_shop.post("/api/v1/sales", json={**SALE, "cashier": "Daw Someone Else"})
    assert sale.status_code == 201, sale.text
    assert sale.json()["cashier"] == "web shop"


def test_an_admin_cannot_deactivate_themselves_however_the_name_is_spelt(
    clients: dict[str, tuple[httpx.Client, str]], settings: Settings
) -> None:
    """The test shop's only admin: "ADMIN" used to pass the check and shut out the last one."""
    client, token = clients["admin"]
    for name in ("admin", "ADMIN", " Admin"):
        refused = client.post(
            f"/admin/users/{name}/active", data={"active": "0", "csrf_token": token}
        )
        assert refused.status_code == 409, refused.text[:300]
    other = f"admin-{uuid.uuid4().hex[:6]}"
    create_user_sync(settings, username=other, password=f"pw-{uuid.uuid4().hex}", role="admin")
    deactivated = client.post(
        f"/admin/users/{other}/active", data={"active": "0", "csrf_token": token}
    )
    assert deactivated.status_code == 303


def test_an_admin_unlocks_a_person_held_back_by_failed_sign_ins(
    app_url: str, clients: dict[str, tuple[httpx.Client, str]], settings: Settings
) -> None:
    username, password = f"held-{uuid.uuid4().hex[:8]}", f"pw-{uuid.uuid4().hex}"
    create_user_sync(settings, username=username, password=password, role="cashier")
    with httpx.Client(base_url=app_url, follow_redirects=False) as browser:
        token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/login").text)
        assert token is not None
        form = {"username": username, "csrf_token": token.group(1), "next": "/"}
        codes = [
            browser.post("/login", data={**form, "password": "wrong"}).status_code for _ in range(5)
        ]
        assert codes[-1] == 429
        admin, admin_token = clients["admin"]
        page = admin.get("/admin/users")
        assert f"/admin/users/{username}/unlock" in page.text
        unlocked = admin.post(f"/admin/users/{username}/unlock", data={"csrf_token": admin_token})
        assert unlocked.status_code == 303
        assert browser.post("/login", data={**form, "password": password}).status_code == 303


def test_behind_a_trusted_proxy_https_brings_hsts_and_secure_cookies(
    app_url: str, settings: Settings, tmp_path: Path
) -> None:
    """The app (uvicorn) believes X-Forwarded-Proto from POS_FORWARDED_ALLOW_IPS only."""
    proxied = httpx.get(f"{app_url}/login", headers={"X-Forwarded-Proto": "https"})
    assert proxied.headers["strict-transport-security"] == "max-age=31536000"
    cookie = proxied.headers["set-cookie"]
    assert cookie.startswith("__Host-pos_csrf=") and "secure" in cookie.lower()
    plain = httpx.get(f"{app_url}/login")
    assert "strict-transport-security" not in plain.headers
    untrusting = settings.model_copy(update={"forwarded_allow_ips": "192.0.2.1"})
    with running_app(untrusting, tmp_path) as other_url:
        spoofed = httpx.get(f"{other_url}/login", headers={"X-Forwarded-Proto": "https"})
    assert "strict-transport-security" not in spoofed.headers
    assert spoofed.headers["set-cookie"].startswith("pos_csrf=")


def test_forced_refill_plan_refreshes_are_rate_limited(
    settings: Settings, auth_headers: dict[str, str], tmp_path: Path, mysql: Engine
) -> None:
    """refresh=true recomputes from every sale of the store: once a minute at most."""
    with mysql.begin() as conn:  # a plan other tests made just now is an hour old here
        conn.execute(
            update(refill_plan_runs)
            .where(refill_plan_runs.c.store_id == settings.store_id)
            .values(computed_at=func.timestampadd(text("HOUR"), -1, refill_plan_runs.c.computed_at))
        )
    limited = settings.model_copy(update={"refill_refresh_seconds": 60})
    params = {"months": 3, "refresh": True}
    with (
        running_app(limited, tmp_path) as url,
        httpx.Client(base_url=url, headers=auth_headers, timeout=60) as api,
    ):
        first = api.get("/api/v1/reports/refill-plan", params=params)
        assert first.status_code == 200, first.text
        again = api.get("/api/v1/reports/refill-plan", params=params)
        assert again.status_code == 429, again.text
        assert 0 < int(again.headers["retry-after"]) <= 60
        # The stored plan is still answered at once.
        assert api.get("/api/v1/reports/refill-plan", params={"months": 3}).status_code == 200
