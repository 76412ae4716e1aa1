"""The counter page: renders the catalog, refuses forms without a CSRF token, and
rings up a sale that reaches the stock table."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from pos_app.settings import Settings
from pos_app.till.service import ensure_shift_open_sync
from tests.stack_support import ChildProcess, log_in, wait_for

pytestmark = pytest.mark.stack


@pytest.fixture
def cashier(app_url: str, users: dict[str, str], settings: Settings) -> Iterator[httpx.Client]:
    """A browser-like client signed in as the cashier (cookies, no API key), at a register
    with an open shift (the counter takes payment only during one)."""
    ensure_shift_open_sync(settings, cashier="cashier")
    with httpx.Client(base_url=app_url, timeout=15) as client:
        log_in(client, "cashier", users["cashier"])
        yield client


def test_the_counter_needs_a_sign_in(app_url: str) -> None:
    response = httpx.get(f"{app_url}/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_the_counter_page_shows_the_catalog_in_both_scripts(cashier: httpx.Client) -> None:
    page = cashier.get("/")
    assert page.status_code == 200
    assert "Taikpon Jacket Black (M)" in page.text
    assert "တိုက်ပုံ" in page.text  # Burmese names travel as UTF-8
    assert "/static/vendor/htmx-2.0.11.min.js" in page.text
    assert cashier.get("/static/vendor/htmx-2.0.11.min.js").status_code == 200
    assert "pos_csrf" in cashier.cookies


def token_of(client: httpx.Client) -> str:
    page = client.get("/")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    return token.group(1)


def test_a_form_post_without_a_csrf_token_is_refused(cashier: httpx.Client) -> None:
    cashier.get("/")  # has the cookie, but sends no token
    response = cashier.post("/counter/scan", data={"code": "TKP-BLK-M"})
    assert response.status_code == 403
    assert "CSRF" in response.text
    assert cashier.post("/counter/pay", data={"method": "card"}).status_code == 403


def test_a_forged_token_is_refused(cashier: httpx.Client) -> None:
    cashier.get("/")
    nonce = cashier.cookies["pos_csrf"]
    forged = {"code": "TKP-BLK-M", "csrf_token": f"{nonce}.{'0' * 64}"}
    assert cashier.post("/counter/scan", data=forged).status_code == 403


def test_a_token_is_worth_nothing_in_another_session(
    app_url: str, cashier: httpx.Client, users: dict[str, str]
) -> None:
    """A token read before sign-in, or taken from another person's session, is refused."""
    with httpx.Client(base_url=app_url, timeout=15) as browser:
        login = browser.get("/login")
        before = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
        assert before is not None
        log_in(browser, "manager", users["manager"])
        assert browser.cookies["pos_csrf"] != before.group(1).split(".")[0]  # a new nonce
        stale = browser.post(
            "/counter/scan", data={"code": "TKP-BLK-M", "csrf_token": before.group(1)}
        )
        assert stale.status_code == 403
        # The cashier's token and nonce, sent with the manager's session: refused too.
        stolen = token_of(cashier)
        mixed = {
            "pos_session": browser.cookies["pos_session"],
            "pos_csrf": cashier.cookies["pos_csrf"],
        }
    with httpx.Client(base_url=app_url, timeout=15, cookies=mixed) as thief:
        other = thief.post("/counter/scan", data={"code": "TKP-BLK-M", "csrf_token": stolen})
        assert other.status_code == 403
    own = cashier.post("/counter/scan", data={"code": "TKP-BLK-M", "csrf_token": stolen})
    assert own.status_code == 200
    cashier.post("/counter/cart/void", headers={"X-CSRF-Token": stolen})


def test_the_cashier_rings_up_a_sale_and_sees_the_stock_move(
    cashier: httpx.Client, api: httpx.Client, stream_job: ChildProcess
) -> None:
    headers = {"X-CSRF-Token": token_of(cashier)}  # as htmx sends it
    cashier.post("/counter/cart/void", headers=headers)  # whatever an earlier test left
    before = {s["sku"]: s for s in api.get("/api/v1/stock").json()}
    barcode = next(
        p["barcode"] for p in api.get("/api/v1/products").json() if p["sku"] == "GBG-PNK-22"
    )

    for _ in range(2):
        added = cashier.post("/counter/scan", data={"code": barcode}, headers=headers)
        assert added.status_code == 200, added.text
    assert 'data-sku="GBG-PNK-22"' in added.text and 'value="2"' in added.text
    receipt = cashier.post("/counter/pay", data={"method": "card"}, headers=headers)
    assert receipt.status_code == 201, receipt.text
    assert "Paid" in receipt.text and "64,000 Ks" in receipt.text

    def moved() -> bool:
        rows = cashier.get("/counter/stock").text
        cell = re.search(r'data-sku="GBG-PNK-22".*?class="num on-hand">(-?\d+)<', rows, re.S)
        return cell is not None and int(cell.group(1)) == before["GBG-PNK-22"]["on_hand"] - 2

    wait_for(moved, timeout=30, what="the counter's stock table to show the sale")


def test_an_empty_cart_is_explained(cashier: httpx.Client) -> None:
    headers = {"X-CSRF-Token": token_of(cashier)}
    cashier.post("/counter/cart/void", headers=headers)  # whatever an earlier test left
    response = cashier.post("/counter/pay", data={"method": "card"}, headers=headers)
    assert response.status_code == 422
    assert "the cart is empty" in response.text


def test_api_keys_give_no_discounts_and_splits_must_add_up(api: httpx.Client) -> None:
    discounted = {
        "sku": "TKP-BLK-M",
        "quantity": 1,
        "discount_percent": "5",
        "discount_reason": "x",
    }
    refused = api.post("/api/v1/sales", json={"lines": [discounted]})
    assert refused.status_code == 422
    assert "over your limit of 0 %" in refused.json()["detail"]

    line = {"sku": "TKP-BLK-M", "quantity": 1}  # 68,000 Ks
    split = [{"method": "card", "amount": "60000"}, {"method": "wavepay", "amount": "1000"}]
    wrong = api.post("/api/v1/sales", json={"lines": [line], "payments": split})
    assert wrong.status_code == 422
    assert "add up to 61,000 Ks, but the total is 68,000 Ks" in wrong.json()["detail"]

    split[1]["amount"] = "8000"
    sale = api.post("/api/v1/sales", json={"lines": [line], "payments": split})
    assert sale.status_code == 201, sale.text
    assert sale.json()["payment"] == {
        "method": "split",
        "amount": "68000.00",
        "tendered": None,
        "change": None,
    }
    assert [p["amount"] for p in sale.json()["payments"]] == ["60000.00", "8000.00"]
