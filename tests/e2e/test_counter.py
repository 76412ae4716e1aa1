"""The counter page: renders the catalog, refuses forms without a CSRF token, and
rings up a sale that reaches the stock table."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.e2e.conftest import ChildProcess, wait_for

pytestmark = pytest.mark.stack


def test_the_counter_page_shows_the_catalog_in_both_scripts(api: httpx.Client) -> None:
    page = api.get("/")
    assert page.status_code == 200
    assert "Taikpon Jacket Black (M)" in page.text
    assert "တိုက်ပုံ" in page.text  # Burmese names travel as UTF-8
    assert "/static/vendor/htmx-2.0.11.min.js" in page.text
    assert api.get("/static/vendor/htmx-2.0.11.min.js").status_code == 200
    assert "pos_csrf" in page.cookies


def test_a_form_post_without_a_csrf_token_is_refused(api: httpx.Client) -> None:
    api.get("/")  # has the cookie, but sends no token
    response = api.post("/counter/sale", data={"qty_TKP-BLK-M": "1"})
    assert response.status_code == 403
    assert "CSRF" in response.text


def test_a_forged_token_is_refused(api: httpx.Client) -> None:
    api.get("/")
    nonce = api.cookies["pos_csrf"]
    forged = {"qty_TKP-BLK-M": "1", "csrf_token": f"{nonce}.{'0' * 64}"}
    assert api.post("/counter/sale", data=forged).status_code == 403


def test_the_cashier_rings_up_a_sale_and_sees_the_stock_move(
    api: httpx.Client, stream_job: ChildProcess
) -> None:
    page = api.get("/")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    before = {s["sku"]: s for s in api.get("/api/v1/stock").json()}

    receipt = api.post(
        "/counter/sale",
        data={"csrf_token": token.group(1), "qty_GBG-PNK-22": "2", "qty_TKP-BLK-S": ""},
    )
    assert receipt.status_code == 201, receipt.text
    assert "Recorded" in receipt.text and "Total" in receipt.text

    def moved() -> bool:
        rows = api.get("/counter/stock").text
        cell = re.search(r'data-sku="GBG-PNK-22".*?class="num on-hand">(-?\d+)<', rows, re.S)
        return cell is not None and int(cell.group(1)) == before["GBG-PNK-22"]["on_hand"] - 2

    wait_for(moved, timeout=10, what="the counter's stock table to show the sale")


def test_an_empty_cart_is_explained(api: httpx.Client) -> None:
    page = api.get("/")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    response = api.post("/counter/sale", data={"csrf_token": token.group(1)})
    assert response.status_code == 422
    assert "the cart is empty" in response.text
