"""The counter in a real headless Chromium, on the real stack: search and scan, cart,
payments, receipts, hold and void, discounts by role, stock alerts, bad input."""

from __future__ import annotations

import json
import re
import uuid
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, text

from pos_app.auth.cli import create_user_sync, set_pin_sync
from pos_app.settings import Settings
from tests.browser.support import SIZES, SignedIn, screenshot
from tests.stack_support import ChildProcess, wait_for

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


def choose_method(page: Page, method: str) -> None:
    # Let a cart update still in flight land first: it re-renders the payment form.
    page.wait_for_load_state("networkidle")
    radio = page.locator(f'input[name="method"][value="{method}"]')
    radio.check()
    expect(radio).to_be_checked()


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
    # Burmese names render with the vendored font (its file is fetched by the page).
    assert page.evaluate("document.fonts.check('16px \"Noto Sans Myanmar\"', 'တိုက်ပုံ')")

    # Search as you type: only matching variants stay visible.
    page.locator("#search").fill(tiled["name"].split(" (")[0].lower())
    visible = page.locator(".variant:visible")
    expect(visible.first).to_be_visible()
    assert all(
        tile_sku.split("-")[0].lower() in t
        for t in visible.evaluate_all("els => els.map(e => e.dataset.search)")
    )
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
    page.locator("#search").focus()
    screenshot(page, f"counter-{size}")

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


def message(page: Page) -> str:
    return page.locator("#cart-message").inner_text()


def test_bad_input_gets_a_message_and_publishes_nothing(signed_in: SignedIn, mysql: Engine) -> None:
    page = signed_in("cashier")
    published = outbox_count(mysql)
    error = page.locator("#cart-message.error")

    scan(page, "2999999999999")
    expect(error).to_contain_text("unknown barcode or SKU '2999999999999'")
    expect(page.locator("#search")).to_have_value("2999999999999")  # kept, selected

    scan(page, "egy-crm-l")  # a SKU typed by hand works too
    line = cart_line(page, "EGY-CRM-L")
    expect(line).to_be_visible()
    for bad, said in (
        ("0", "quantity must be from 1 to 1,000 (got 0)"),
        ("10000", "quantity must be from 1 to 1,000 (got 10,000)"),
        ("two", "quantity must be a whole number"),
    ):
        line.locator("input.qty").fill(bad)
        line.locator("input.qty").press("Enter")
        expect(error).to_contain_text(said)
        expect(line.locator("input.qty")).to_have_value("1")  # the cart did not change

    for tendered, said in (
        ("", "enter the cash tendered"),
        ("lots", "cash tendered must be an amount in kyat"),
        ("1000", "cash tendered 1,000 Ks is less than the 28,000 Ks due"),
    ):
        page.locator("#tendered").fill(tendered)
        page.locator("#pay").click()
        expect(error).to_contain_text(said)
    page.locator("#split-method").select_option("kbzpay")
    page.locator("#split-amount").fill("30000")
    page.locator("#pay").click()
    expect(error).to_contain_text("the split amount must be more than 0 and less than 28,000 Ks")

    assert outbox_count(mysql) == published  # nothing reached the pipeline
    expect(page.locator("#cart-total")).to_have_text("28,000 Ks")

    # More than on hand warns, but the cart takes it (the shelf may know better).
    on_hand = product(mysql, "EGY-CRM-L")["on_hand"]
    line.locator("input.qty").fill(str(on_hand + 1))
    line.locator("input.qty").press("Enter")
    expect(line.locator(".warn")).to_have_text(f"Only {on_hand} on hand: check the shelf")
    expect(page.locator("#cart-total")).to_have_text(kyat(28000 * (on_hand + 1)))


def test_hold_resume_and_void(signed_in: SignedIn, mysql: Engine) -> None:
    page = signed_in("cashier")
    published = outbox_count(mysql)
    scan(page, product(mysql, "TKP-BLK-L")["barcode"])
    expect(cart_line(page, "TKP-BLK-L")).to_be_visible()
    page.locator("#hold").click()
    expect(page.locator("#cart-message")).to_contain_text("on hold")
    expect(page.locator("#cart-empty")).to_be_visible()
    held = page.locator(".resume").last
    held_id = held.get_attribute("value")

    # Another customer meanwhile; resuming the held cart puts this one on hold.
    scan(page, "SDL-BLK-10")
    expect(cart_line(page, "SDL-BLK-10")).to_be_visible()
    page.locator(f'.resume[value="{held_id}"]').click()
    expect(page.locator("#cart-message")).to_contain_text(f"Cart {held_id} resumed")
    expect(cart_line(page, "TKP-BLK-L")).to_be_visible()
    expect(cart_line(page, "SDL-BLK-10")).to_have_count(0)

    # Void it, then resume the other one and void that too.
    page.locator("#void").click()
    expect(page.locator("#cart-message")).to_contain_text("Cart voided")
    expect(page.locator("#cart-empty")).to_be_visible()
    other = page.locator(".resume").last
    expect(other).to_contain_text("1 item")
    other.click()
    expect(cart_line(page, "SDL-BLK-10")).to_be_visible()
    page.locator("#void").click()
    expect(page.locator("#cart-empty")).to_be_visible()
    with mysql.connect() as conn:
        left = conn.execute(
            text("SELECT COUNT(*) FROM carts WHERE id = :id"), {"id": held_id}
        ).scalar_one()
    assert left == 0
    assert outbox_count(mysql) == published  # voided carts are never sales
    # The audit log keeps who held, resumed and voided which cart, and what was in it.
    with mysql.connect() as conn:
        rows = conn.execute(
            text("SELECT action, actor, details FROM audit_log WHERE target = :cart ORDER BY id"),
            {"cart": f"cart:{held_id}"},
        ).all()
    assert [row.action for row in rows] == ["cart.held", "cart.resumed", "cart.voided"]
    assert len({row.actor for row in rows}) == 1 and "cashier" in rows[0].actor
    assert json.loads(rows[2].details) == {"items": 1, "lines": [["TKP-BLK-L", 1]]}


def test_split_payment_cash_and_wallet(signed_in: SignedIn, mysql: Engine) -> None:
    page = signed_in("cashier")
    scan(page, "LGY-SLK-NVY")  # 72,000 Ks
    expect(page.locator("#cart-total")).to_have_text("72,000 Ks")
    page.locator("#split-method").select_option("kbzpay")
    page.locator("#split-amount").fill("50,000")
    page.locator("#tendered").fill("30000")  # cash pays the other 22,000
    page.locator("#pay").click()
    sale_id = receipt_sale_id(page)
    receipt = page.locator("#receipt")
    expect(receipt).to_contain_text("KBZPay")
    expect(page.locator("#receipt-change")).to_have_text("8,000 Ks")
    event = outbox_event(mysql, sale_id)
    assert event["payment"]["method"] == "split"
    assert event["payments"] == [
        {"method": "cash", "amount": "22000.00", "tendered": "30000.00", "change": "8000.00"},
        {"method": "kbzpay", "amount": "50000.00", "tendered": None, "change": None},
    ]


def apply_discount(page: Page, sku: str, percent: str, reason: str) -> None:
    line = cart_line(page, sku)
    details = line.locator("details.discount")
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    line.locator('input[name="discount_percent"]').fill(percent)
    line.locator('input[name="discount_reason"]').fill(reason)
    line.locator("details.discount button").click()


def test_discounts_are_limited_by_role_and_charged_net(
    signed_in: SignedIn, mysql: Engine, stream_job: ChildProcess
) -> None:
    cashier = signed_in("cashier")
    scan(cashier, "LGY-COT-NVY")  # 16,000 Ks
    expect(cart_line(cashier, "LGY-COT-NVY")).to_be_visible()
    error = cashier.locator("#cart-message.error")
    apply_discount(cashier, "LGY-COT-NVY", "15", "regular customer")
    expect(error).to_contain_text("a discount of 15 % is over your limit of 10 % (cashier)")
    apply_discount(cashier, "LGY-COT-NVY", "10", "")
    expect(error).to_contain_text("a discount needs a reason")
    apply_discount(cashier, "LGY-COT-NVY", "10", "regular customer")
    expect(cashier.locator("#cart-total")).to_have_text("14,400 Ks")
    choose_method(cashier, "card")
    cashier.locator("#pay").click()
    sale_id = receipt_sale_id(cashier)
    expect(cashier.locator("#receipt")).to_contain_text("regular customer")
    line = outbox_event(mysql, sale_id)["lines"][0]
    assert (line["unit_price"], line["list_price"], line["discount"]) == (
        "14400.00",
        "16000.00",
        "1600.00",
    )
    assert line["discount_reason"] == "regular customer"

    # A manager may give more.
    manager = signed_in("manager")
    scan(manager, "LGY-COT-NVY")
    apply_discount(manager, "LGY-COT-NVY", "30", "damaged hem")
    expect(manager.locator("#cart-total")).to_have_text("11,200 Ks")

    # The stream job charges the net price as it stands in the event.
    def price_each() -> Decimal | None:
        with mysql.connect() as conn:
            return conn.execute(
                text("SELECT price_each FROM sales WHERE sale_id = :s"), {"s": sale_id}
            ).scalar_one_or_none()

    assert wait_for(price_each, timeout=30, what="the discounted sale in MySQL") == Decimal(
        "14400.00"
    )


def test_keyboard_only_sale(signed_in: SignedIn, mysql: Engine) -> None:
    page = signed_in("cashier", "tablet")
    keys = page.keyboard
    expect(page.locator("#search")).to_be_focused()  # ready to scan on arrival
    keys.type(product(mysql, "SDL-BLK-8")["barcode"])
    keys.press("Enter")
    expect(cart_line(page, "SDL-BLK-8")).to_be_visible()
    expect(page.locator("#search")).to_be_focused()
    keys.press("F4")  # to the cash tendered
    expect(page.locator("#tendered")).to_be_focused()
    keys.type("40000")
    keys.press("Enter")
    receipt_sale_id(page)
    expect(page.locator("#receipt-change")).to_have_text("2,000 Ks")
    expect(page.locator("#new-sale")).to_be_focused()
    keys.press("Enter")
    expect(page.locator("#cart-empty")).to_be_visible()
    expect(page.locator("#search")).to_be_focused()


def test_todays_sales_reprint_an_80mm_receipt(signed_in: SignedIn, mysql: Engine) -> None:
    page = signed_in("cashier")
    scan(page, "GBG-WHT-23")
    choose_method(page, "wavepay")
    page.locator("#pay").click()
    sale_id = receipt_sale_id(page)

    page.goto("/counter/sales")
    row = page.locator(f'#todays-sales tr[data-sale-id="{sale_id}"]')
    expect(row).to_contain_text("18,000 Ks")
    row.get_by_role("link", name="Reprint").click()
    expect(page.locator("#receipt")).to_contain_text(sale_id)
    expect(page.locator("#receipt")).to_contain_text("WavePay")

    # Printed: the page is 80 mm wide (226.77 pt) and shows the receipt only.
    pdf = page.pdf(prefer_css_page_size=True)
    box = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert box is not None and abs(float(box.group(1)) - 226.77) < 1, box
    page.emulate_media(media="print")
    assert page.locator("header.top").evaluate("e => getComputedStyle(e).visibility") == "hidden"
    assert page.locator("#receipt").evaluate("e => getComputedStyle(e).visibility") == "visible"


def test_a_return_with_a_reason_puts_stock_back(
    signed_in: SignedIn, mysql: Engine, stream_job: ChildProcess, settings: Settings
) -> None:
    sku = "SDL-MRN-9"
    start = product(mysql, sku)["on_hand"]
    page = signed_in("cashier")
    scan(page, sku)
    line = cart_line(page, sku)
    line.locator("input.qty").fill("2")
    line.locator("input.qty").press("Enter")
    expect(page.locator("#cart-total")).to_have_text(kyat(product(mysql, sku)["unit_price"] * 2))
    choose_method(page, "ayapay")
    page.locator("#pay").click()
    sale_id = receipt_sale_id(page)
    wait_for(lambda: product(mysql, sku)["on_hand"] == start - 2, timeout=30, what="the sale")

    # A cashier's refund is approved by a manager's PIN (typed into the cashier's form).
    boss = f"manager-{uuid.uuid4().hex[:8]}"
    create_user_sync(settings, username=boss, password=uuid.uuid4().hex, role="manager")
    set_pin_sync(settings, username=boss, pin="1357")

    def approve() -> None:
        page.locator("#approver").fill(boss)
        page.locator("#approver-pin").fill("1357")

    # From today's sales to the sale's return screen.
    page.goto("/counter/sales")
    page.locator(f'#todays-sales tr[data-sale-id="{sale_id}"]').get_by_role(
        "link", name="Return"
    ).click()
    row = page.locator('#return-lines tr[data-line="1"]')
    expect(row).to_contain_text("of 2")
    row.locator("input.qty").fill("1")
    page.locator("#return-submit").click()
    expect(page.locator("#return-message.error")).to_have_text("a return needs a reason")
    page.locator('#return-lines tr[data-line="1"] input.qty').fill("1")
    page.locator("#return-reason").fill("wrong size")
    page.locator("#return-submit").click()
    expect(page.locator("#return-message.error")).to_contain_text("a manager's approval")
    page.locator('#return-lines tr[data-line="1"] input.qty').fill("1")
    approve()
    page.locator("#return-submit").click()
    expect(page.locator("#return-id")).to_be_visible()
    refund = product(mysql, sku)["unit_price"]
    expect(page.locator("#refund")).to_have_text(kyat(refund))
    expect(page.locator('#return-lines tr[data-line="1"] .returned')).to_have_text("1")

    # More than can come back is refused with the reason.
    page.locator('#return-lines tr[data-line="1"] input.qty').fill("2")
    page.locator("#return-reason").fill("changed mind")
    approve()
    page.locator("#return-submit").click()
    expect(page.locator("#return-message.error")).to_contain_text("only 1 of 2 can come back")

    wait_for(
        lambda: product(mysql, sku)["on_hand"] == start - 1,
        timeout=30,
        what="the return to put one back on the shelf",
    )
