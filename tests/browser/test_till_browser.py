"""A day at the till in a real headless Chromium, on the real stack, in a shop of its own
(so the day's reports hold this shift alone): no payment without a shift; open a shift
with a float; sell by cash, by KBZPay with its reference and split; a whole-cart
discount over the cashier's limit approved by a manager's PIN; take a return and an
exchange (each approved by the manager's PIN); pay out petty cash; close with the notes
counted 2,000 Ks short. After the pipeline, every figure of the Z report equals the
report APIs exactly, and the approvals are in the audit log."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select, text

from pos_app.auth.cli import create_api_key_sync, create_user_sync
from pos_app.auth.roles import ALL_SCOPES
from pos_app.db.engine import make_sync_engine
from pos_app.db.tables import sale_payments, sale_totals
from pos_app.settings import Settings
from tests.browser.support import screenshot
from tests.code128 import decode, modules_of
from tests.stack_support import (
    log_in,
    running_app,
    running_stream_job,
    scratch_shop,
    wait_for,
)

pytestmark = pytest.mark.stack
D = Decimal
FLOAT = D(100000)
# (sku, price): three products of the demo catalog.
CASH_SALE, WALLET_SALE, SPLIT_SALE = (
    ("LGY-COT-NVY", 16000),
    ("BAG-SHN-RED", 15000),
    ("EGY-WHT-S", 26000),
)


@pytest.fixture(scope="module")
def till_shop(
    settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Settings, str]]:
    # In a thread of its own: making a shop runs asyncio, and Playwright's loop runs here.
    with ThreadPoolExecutor(1) as pool:
        made = pool.submit(scratch_shop, settings, "till").result()
    shop = made.model_copy(
        update={"stream_checkpoint_dir": str(tmp_path_factory.mktemp("till-checkpoints"))}
    )
    logs = tmp_path_factory.mktemp("till-logs")
    with running_stream_job(shop, logs), running_app(shop, logs) as url:
        yield shop, url


def page_for(
    browser: Browser, shop: Settings, url: str, role: str, *, username: str | None = None
) -> Page:
    username, password = username or f"{role}-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex
    create_user_sync(shop, username=username, password=password, role=role)
    with httpx.Client(base_url=url, timeout=15) as client:
        log_in(client, username, password)
        cookies = [{"name": c.name, "value": c.value or "", "url": url} for c in client.cookies.jar]
    context = browser.new_context(
        base_url=url, viewport={"width": 1280, "height": 900}, locale="en-GB"
    )
    context.add_cookies(cookies)  # type: ignore[arg-type]
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("dialog", lambda dialog: dialog.accept())  # "Void this cart?"
    return page


def ring_up(page: Page, sku: str, pay: dict[str, str], method: str = "cash") -> str:
    page.goto("/")
    search = page.locator("#search")
    search.fill(sku)
    search.press("Enter")
    expect(page.locator(f'.cart-line[data-sku="{sku}"]')).to_be_visible()
    page.wait_for_load_state("networkidle")
    page.locator(f'input[name="method"][value="{method}"]').check()
    if "split_method" in pay:
        page.locator("#split-method").select_option(pay["split_method"])
        page.locator("#split-amount").fill(pay["split_amount"])
    if "tendered" in pay:
        page.locator("#tendered").fill(pay["tendered"])
    if "reference" in pay:
        page.locator("#reference").fill(pay["reference"])
    page.locator("#pay").click()
    receipt = page.locator("#receipt")
    expect(receipt).to_be_visible()
    sale_id = receipt.get_attribute("data-sale-id")
    assert sale_id
    return sale_id


MINUS = "\N{MINUS SIGN}"  # how the reports print a deduction
PIN = "2468"


def approve(page: Page, manager: str) -> None:
    """The manager types their name and PIN into the cashier's form."""
    page.locator("#approver").fill(manager)
    page.locator("#approver-pin").fill(PIN)


def money(shown: str) -> D:
    """'-2,000 Ks' (either minus) -> Decimal(-2000)."""
    return D(shown.replace("Ks", "").replace(",", "").replace(MINUS, "-").strip())


def test_a_day_at_the_till_balances_with_the_reports(
    browser: Browser, till_shop: tuple[Settings, str]
) -> None:
    shop, url = till_shop
    cashier = f"cashier-{uuid.uuid4().hex[:6]}"
    page = page_for(browser, shop, url, "cashier", username=cashier)
    # The manager on duty, with a personal PIN set on their own page.
    boss = f"manager-{uuid.uuid4().hex[:6]}"
    manager = page_for(browser, shop, url, "manager", username=boss)
    manager.goto("/account/pin")
    expect(manager.locator("#pin-state")).to_contain_text("no PIN yet")
    manager.locator('input[name="pin"]').fill(PIN)
    manager.locator('input[name="pin_again"]').fill(PIN)
    manager.locator("#pin-form button").click()
    expect(manager.locator("#pin-message")).to_have_text("PIN saved")
    screenshot(manager, "account-pin", selector="main")

    # No shift, no payment.
    page.goto("/")
    page.locator("#search").fill(CASH_SALE[0])
    page.locator("#search").press("Enter")
    expect(page.locator(f'.cart-line[data-sku="{CASH_SALE[0]}"]')).to_be_visible()
    page.wait_for_load_state("networkidle")
    page.locator("#tendered").fill("20000")
    page.locator("#pay").click()
    expect(page.locator("#cart-panel")).to_contain_text("no shift is open at this register")
    page.locator("#void").click()
    expect(page.locator("#cart-empty")).to_be_visible()

    page.goto("/counter/shift")
    page.locator("#opening-float").fill(str(FLOAT))
    page.locator("#open-shift-submit").click()
    expect(page.locator("#shift-status")).to_contain_text("100,000 Ks")

    cash_sale = ring_up(page, CASH_SALE[0], {"tendered": "20000"})
    expect(page.locator("#receipt-change")).to_have_text("4,000 Ks")
    code = page.locator("#sale-code svg")
    expect(code).to_be_visible()
    # What a scanner reads off the printed receipt: the bars, decoded.
    scanned = decode(modules_of(code.evaluate("svg => svg.outerHTML")))
    assert scanned == cash_sale
    screenshot(page, "receipt-code", selector="#receipt")
    link = page.locator("#receipt-link").get_attribute("href")
    assert link and "/r/" in link
    wallet_sale = ring_up(page, WALLET_SALE[0], {"reference": "KBZ-778899"}, method="kbzpay")
    expect(page.locator("#receipt .payment-ref")).to_have_text("KBZ-778899")
    split_sale = ring_up(
        page,
        SPLIT_SALE[0],
        {"split_method": "kbzpay", "split_amount": "20000", "tendered": "10000"},
    )

    # 42,000 rounded down to 37,500: 4,500 off is over the cashier's 10 %, so the
    # manager approves it on the spot with their PIN. Paid by card.
    page.goto("/")
    for sku in (SPLIT_SALE[0], CASH_SALE[0]):
        page.locator("#search").fill(sku)
        page.locator("#search").press("Enter")
        expect(page.locator(f'.cart-line[data-sku="{sku}"]')).to_be_visible()
    page.wait_for_load_state("networkidle")
    page.locator("#cart-discount summary").click()
    page.locator('#cart-discount-form input[name="kind"][value="amount"]').check()
    page.locator("#cart-discount-value").fill("4,500")
    page.locator("#cart-discount-reason").fill("round down for a regular")
    page.locator("#apply-cart-discount").click()
    expect(page.locator("#cart-message")).to_contain_text("over your limit of 10 %")
    approve(page, boss)
    page.locator("#cart-discount-value").fill("4,500")
    page.locator("#cart-discount-reason").fill("round down for a regular")
    page.locator('#cart-discount-form input[name="kind"][value="amount"]').check()
    page.locator("#apply-cart-discount").click()
    expect(page.locator("#cart-total")).to_have_text("37,500 Ks")
    expect(page.locator("#cart-discount-row")).to_contain_text(f"approved by {boss}")
    screenshot(page, "cart-discount-approved", selector="#cart-panel")
    page.locator('input[name="method"][value="card"]').check()
    page.locator("#pay").click()
    expect(page.locator("#receipt-total")).to_have_text("37,500 Ks")
    expect(page.locator("#receipt-cart-discount")).to_contain_text("4,500 Ks")
    discount_sale = page.locator("#receipt").get_attribute("data-sale-id")
    assert discount_sale

    # Anyone with the receipt link sees the receipt, without signing in.
    with httpx.Client(timeout=15) as stranger:
        shared = stranger.get(link)
        assert shared.status_code == 200 and cash_sale in shared.text
        assert stranger.get(link[:-3] + "abc").status_code == 404

    # A return of the cash sale, found by scanning its receipt (the scanner types the
    # code and Enter), refunded in cash.
    page.goto("/counter/returns")
    page.locator("#return-sale-id").press_sequentially(scanned)
    page.locator("#return-sale-id").press("Enter")
    expect(page.locator("#return-form")).to_contain_text(cash_sale)
    page.locator('input[name="qty_1"]').fill("1")
    page.locator("#return-reason").fill("too short")
    page.locator("#refund-method").select_option("cash")
    page.locator("#return-submit").click()
    # A refund is a manager's task: the cashier's needs the manager's PIN.
    expect(page.locator("#return-message")).to_contain_text("manager's approval")
    page.locator('input[name="qty_1"]').fill("1")
    page.locator("#return-reason").fill("too short")
    approve(page, boss)
    page.locator("#return-submit").click()
    expect(page.locator("#refund")).to_have_text("16,000 Ks")
    return_id = page.locator("#return-id").inner_text()

    # An exchange: the KBZPay sale's bag comes back, the customer takes a shirt instead
    # (26,000) and pays the 11,000 difference in cash, in one step.
    page.goto(f"/counter/returns?sale_id={wallet_sale}")
    page.locator('input[name="qty_1"]').fill("1")
    page.locator("#return-reason").fill("wants the shirt")
    page.locator("#refund-method").select_option("cash")
    approve(page, boss)
    page.locator("#exchange-code").fill(SPLIT_SALE[0])
    page.locator("#exchange-submit").click()
    expect(page.locator("#exchange-difference")).to_have_text("The customer pays 11,000 Ks")
    screenshot(page, "exchange", selector="main")
    exchange_sale = page.locator("#exchange-sale-id").inner_text()

    # Petty cash out, with its reason.
    page.goto("/counter/shift")
    page.locator("#cash-amount").fill("3000")
    page.locator("#cash-reason").fill("tea for the shop")
    page.locator("#cash-submit").click()
    expect(page.locator("#z-paid-out")).to_have_text(f"{MINUS}3,000 Ks")

    # The pipeline stores the five sales and the two returns.
    engine = make_sync_engine(shop)
    try:

        def stored() -> bool:
            with engine.connect() as conn:
                return conn.scalar(select(func.count()).select_from(sale_totals)) == 7

        wait_for(stored, timeout=90, what="the shift's sales and returns in sale_totals")
        with engine.connect() as conn:
            reference = conn.scalar(
                # The sale's own payment (its exchange's refund has the same sale_id).
                select(sale_payments.c.reference).where(sale_payments.c.document_id == wallet_sale)
            )
    finally:
        engine.dispose()
    assert reference == "KBZ-778899"

    # Close: float 100,000 + cash 16,000 + 6,000 - refund 16,000 + the exchange's
    # 26,000 - 15,000 - petty 3,000 = 114,000 expected; the drawer holds
    # 11 x 10,000 + 2 x 1,000 = 112,000: 2,000 short.
    page.goto("/counter/shift")
    expect(page.locator("#z-expected")).to_have_text("114,000 Ks")
    page.locator("#note-10000").fill("11")
    page.locator("#note-1000").fill("2")
    screenshot(page, "shift-close", selector="main")
    page.locator("#close-submit").click()
    report = page.locator("#shift-report")
    expect(report).to_have_attribute("data-kind", "Z")
    page.set_viewport_size({"width": 400, "height": 1200})
    screenshot(page, "z-report", selector="#shift-report")

    z: dict[str, Any] = {
        name: page.locator(f"#z-{name}").inner_text()
        for name in (
            "receipts",
            "first",
            "last",
            "items",
            "sales",
            "returns",
            "net",
            "discounts",
            "tax",
            "float",
            "paid-out",
            "expected",
            "counted",
            "over-short",
        )
    }
    methods = {
        row.get_attribute("data-method"): money(row.locator(".net").inner_text())
        for row in page.locator(".z-method").all()
    }
    assert (z["receipts"], z["first"], z["last"], z["items"]) == (
        "5",
        cash_sale,
        exchange_sale,
        "4",
    )
    assert len({cash_sale, wallet_sale, split_sale, discount_sale, exchange_sale}) == 5
    assert money(z["sales"]) == D(120500) and money(z["returns"]) == D(-31000)
    assert money(z["expected"]) == D(114000) and money(z["counted"]) == D(112000)
    assert money(z["over-short"]) == D(-2000)
    assert page.locator("#z-over-short").locator("xpath=..").get_attribute("class") == "total short"

    # Every figure against the report APIs of the day (this shop's day is this shift).
    day = cash_sale[1:5] + "-" + cash_sale[5:7] + "-" + cash_sale[7:9]
    key = create_api_key_sync(shop, name="till-test", scopes=sorted(ALL_SCOPES))
    with httpx.Client(base_url=url, timeout=15, headers={"Authorization": f"Bearer {key}"}) as api:
        sales = api.get(
            "/api/v1/reports/sales", params={"granularity": "day", "from": day, "to": day}
        ).json()
        payments = api.get("/api/v1/reports/payments", params={"from": day, "to": day}).json()
        tax = api.get("/api/v1/reports/tax", params={"from": day, "to": day}).json()
    (period,) = sales["periods"]
    assert money(z["net"]) == D(period["revenue"]) == D(89500)
    assert int(z["receipts"]) == period["sales"]
    assert int(z["items"]) == period["units"]
    assert methods == {r["method"]: D(r["amount"]) for r in payments["rows"]}
    assert methods == {"cash": D(17000), "kbzpay": D(35000), "card": D(37500)}
    cash_in_drawer = money(z["float"]) + methods["cash"] + money(z["paid-out"])
    assert cash_in_drawer == money(z["expected"])
    assert money(z["tax"]) == D(tax["tax"]) == 0
    assert money(z["discounts"]) == D(4500)

    # Audited: the shift opened, the petty cash with its reason, the close with the count.
    engine = make_sync_engine(shop)
    try:
        with engine.connect() as conn:
            audited = conn.execute(
                text(
                    "SELECT action, details FROM audit_log WHERE action LIKE 'shift.%' ORDER BY id"
                )
            ).all()
            approvals = conn.execute(
                text(
                    "SELECT action, actor, details FROM audit_log"
                    " WHERE action IN ('discount.approved', 'return.approved') ORDER BY id"
                )
            ).all()
    finally:
        engine.dispose()
    assert [a for a, _ in audited] == ["shift.opened", "shift.cash_out", "shift.closed"]
    assert "tea for the shop" in audited[1][1] and "112000" in audited[2][1]
    # Who asked, who approved, what and how much.
    assert [a for a, _, _ in approvals] == [
        "discount.approved",
        "return.approved",
        "return.approved",
    ]
    asked = [json.loads(details) for _, _, details in approvals]
    assert all(d["approved_by"] == boss and d["asked_by"] == cashier for d in asked)
    assert all(actor == f"user:{cashier}" for _, actor, _ in approvals)
    assert (asked[0]["amount"], asked[0]["kind"], asked[0]["value"]) == ("4500", "amount", "4500")
    assert (asked[1]["return_id"], asked[1]["refund"]) == (return_id, "16000.00")
    assert (asked[2]["exchange_sale"], asked[2]["refund"]) == (exchange_sale, "15000.00")

    # The manager sees the shift with its over/short, and reprints the Z report.
    manager.goto("/manager/shifts")
    row = manager.locator("#shifts tbody tr").first
    expect(row.locator(".over-short")).to_have_text("-2,000 Ks")
    row.get_by_role("link", name="Z report").click()
    expect(manager.locator("#z-over-short")).to_have_text("-2,000 Ks")
    expect(manager.locator("#z-first")).to_have_text(cash_sale)
    assert return_id.startswith("R")

    # The admin's tax setting page (the setting applies to the next sale; its effect on
    # the figures is tested in tests/e2e/test_till_approvals.py).
    admin = page_for(browser, shop, url, "admin")
    admin.goto("/admin/tax")
    expect(admin.locator("#tax-now")).to_contain_text("the default from the environment")
    screenshot(admin, "admin-tax", selector="main")
