"""The counter in a real headless Chromium, on the real stack: search and scan, cart,
payments, receipts, hold and void, discounts by role, stock alerts, bad input."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, text

from tests.browser.conftest import SIZES, SignedIn, screenshot
from tests.stack_fixtures import ChildProcess

pytestmark = pytest.mark.stack


def outbox_count(mysql: Engine) -> int:
    with mysql.connect() as conn:
        return int(conn.execute(text("SELECT COUNT(*) FROM outbox")).scalar_one())


def outbox_event(mysql: Engine, sale_id: str) -> dict:
    with mysql.connect() as conn:
        payload = conn.execute(
            text("SELECT payload FROM outbox WHERE event_key = :k"), {"k": sale_id}
        ).scalar_one()
    return json.loads(payload)


def product(mysql: Engine, sku: str) -> dict:
    with mysql.connect() as conn:
        row = conn.execute(
            text(
                "SELECT p.sku, p.name, p.barcode, p.unit_price, p.reorder_point, s.on_hand "
                "FROM products p JOIN stocks s ON s.sku = p.sku WHERE p.sku = :sku"
            ),
            {"sku": sku},
        ).mappings()
        return dict(row.one())


def kyat(amount: Decimal | int) -> str:
    return f"{Decimal(amount):,.0f} Ks"


def scan(page: Page, code: str) -> None:
    search = page.locator("#search")
    search.fill(code)
    search.press("Enter")


def cart_line(page: Page, sku: str):  # type: ignore[no-untyped-def]
    return page.locator(f'.cart-line[data-sku="{sku}"]')


def receipt_sale_id(page: Page) -> str:
    receipt = page.locator("#receipt")
    expect(receipt).to_be_visible()
    sale_id = receipt.get_attribute("data-sale-id")
    assert sale_id
    return sale_id


# Each size sells its own SKU down to its reorder point, so it lands in the alert strip.
FLOW_SKUS = {"desktop": ("LGY-ACH-MRN", "TKP-WHT-S"), "tablet": ("SDL-MRN-11", "EGY-WHT-S")}


@pytest.mark.parametrize("size", list(SIZES))
def test_search_scan_pay_cash_receipt_and_stock_alert(
    size: str, signed_in: SignedIn, mysql: Engine, stream_job: ChildProcess
) -> None:
    scanned_sku, tile_sku = FLOW_SKUS[size]
    scanned, tiled = product(mysql, scanned_sku), product(mysql, tile_sku)
    to_low = scanned["on_hand"] - scanned["reorder_point"]  # sold, it is at its reorder point
    assert to_low >= 1
    page = signed_in("cashier", size)
    expect(page.locator("#tiles .tile").first).to_be_visible()
    screenshot(page, f"counter-{size}")
    # Burmese names render with the vendored font (its file is fetched by the page).
    assert page.evaluate("document.fonts.check('16px \"Noto Sans Myanmar\"', 'တိုက်ပုံ')")

    # Search as you type: only matching variants stay visible.
    page.locator("#search").fill(tiled["name"].split(" (")[0].lower())
    visible = page.locator(".variant:visible")
    expect(visible.first).to_be_visible()
    assert all(tile_sku.split("-")[0].lower() in t for t in visible.evaluate_all(
        "els => els.map(e => e.dataset.search)"
    ))
    page.locator(f'.variant[value="{tile_sku}"]').click()
    expect(cart_line(page, tile_sku)).to_be_visible()
    page.locator("#search").fill("")

    # The scanner types the barcode and Enter.
    scan(page, scanned["barcode"])
    expect(cart_line(page, scanned_sku)).to_be_visible()
    expect(page.locator("#search")).to_have_value("")
    qty = cart_line(page, scanned_sku).locator("input.qty")
    qty.fill(str(to_low))
    qty.press("Tab")
    total = scanned["unit_price"] * to_low + tiled["unit_price"]
    expect(page.locator("#cart-total")).to_have_text(kyat(total))
    expect(page.locator("#cart-count")).to_have_text(f"{to_low + 1} items")

    # Cash: tendered rounded up to the next 10,000; change is the difference.
    tendered = (total // 10000 + 1) * 10000
    page.locator("#tendered").fill(str(tendered))
    page.locator("#pay").click()
    sale_id = receipt_sale_id(page)
    receipt = page.locator("#receipt")
    for text_ in ("Shwe Longyi", "Bogyoke Aung San Road", sale_id, "Cashier: cashier-"):
        expect(receipt).to_contain_text(text_)
    expect(page.locator("#receipt-total")).to_have_text(kyat(total))
    expect(page.locator("#receipt-change")).to_have_text(kyat(tendered - total))
    screenshot(page, f"receipt-{size}", selector="#receipt")

    event = outbox_event(mysql, sale_id)
    assert Decimal(event["totals"]["total"]) == total
    assert event["payment"] == {
        "method": "cash",
        "amount": f"{total:.2f}",
        "tendered": f"{tendered:.2f}",
        "change": f"{tendered - total:.2f}",
    }

    # The pipeline moves the stock; the tiles and the alert strip follow without a reload.
    strip_item = page.locator(f'#alert-strip .alert[data-sku="{scanned_sku}"]')
    expect(strip_item).to_be_visible(timeout=30_000)
    expect(strip_item.locator(".n")).to_have_text(str(scanned["reorder_point"]))
    expect(page.locator(f'.variant[value="{scanned_sku}"] .on-hand')).to_have_text(
        str(scanned["reorder_point"])
    )
    assert product(mysql, scanned_sku)["on_hand"] == scanned["reorder_point"]
    screenshot(page, f"alerts-{size}", selector="#alert-strip")

    # Nothing wider than the screen: the layout fits both sizes.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= SIZES[size][0]

    # New sale: an empty cart, the search box ready for the next customer.
    page.locator("#new-sale").click()
    expect(page.locator("#cart-empty")).to_be_visible()
    expect(page.locator("#search")).to_be_focused()
