"""The counter page: renders the catalog, refuses forms without a CSRF token, and
rings up a sale that reaches the stock table."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from tests.stack_fixtures import ChildProcess, log_in, wait_for

pytestmark = pytest.mark.stack


@pytest.fixture
def cashier(app_url: str, users: dict[str, str]) -> Iterator[httpx.Client]:
    """A browser-like client signed in as the cashier (cookies, no API key)."""
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


def test_a_form_post_without_a_csrf_token_is_refused(cashier: httpx.Client) -> None:
    cashier.get("/")  # has the cookie, but sends no token
    response = cashier.post("/counter/sale", data={"qty_TKP-BLK-M": "1"})
    assert response.status_code == 403
    assert "CSRF" in response.text


def test_a_forged_token_is_refused(cashier: httpx.Client) -> None:
    cashier.get("/")
    nonce = cashier.cookies["pos_csrf"]
    forged = {"qty_TKP-BLK-M": "1", "csrf_token": f"{nonce}.{'0' * 64}"}
    assert cashier.post("/counter/sale", data=forged).status_code == 403


def test_the_cashier_rings_up_a_sale_and_sees_the_stock_move(
    cashier: httpx.Client, api: httpx.Client, stream_job: ChildProcess
) -> None:
    page = cashier.get("/")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    before = {s["sku"]: s for s in api.get("/api/v1/stock").json()}

    receipt = cashier.post(
        "/counter/sale",
        data={"csrf_token": token.group(1), "qty_GBG-PNK-22": "2", "qty_TKP-BLK-S": ""},
    )
    assert receipt.status_code == 201, receipt.text
    assert "Recorded" in receipt.text and "Total" in receipt.text

    def moved() -> bool:
        rows = cashier.get("/counter/stock").text
        cell = re.search(r'data-sku="GBG-PNK-22".*?class="num on-hand">(-?\d+)<', rows, re.S)
        return cell is not None and int(cell.group(1)) == before["GBG-PNK-22"]["on_hand"] - 2

    wait_for(moved, timeout=10, what="the counter's stock table to show the sale")


def test_an_empty_cart_is_explained(cashier: httpx.Client) -> None:
    page = cashier.get("/")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    response = cashier.post("/counter/sale", data={"csrf_token": token.group(1)})
    assert response.status_code == 422
    assert "the cart is empty" in response.text
