"""The back office in a real headless Chromium, on the real stack: a manager makes a
family with the size-by-colour grid and prints its labels; a cashier scans a new label
and sells it; the manager changes its price, the next sale charges the new one, and the
month's report equals the two sales exactly."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from pos_app.auth.cli import create_api_key_sync
from pos_app.auth.roles import ALL_SCOPES
from pos_app.settings import Settings
from tests.barcode_reader import decode_ean13_svg
from tests.browser.support import SignedIn, screenshot
from tests.browser.test_counter_browser import cart_line, choose_method, receipt_sale_id, scan
from tests.stack_support import ChildProcess, wait_for

pytestmark = pytest.mark.stack
PREFIX = "BOB"  # SKUs no other test makes
SKUS = ["BOB-BLA-L", "BOB-BLA-M", "BOB-WHI-L", "BOB-WHI-M"]
OPENING = {"BOB-WHI-M": 3, "BOB-WHI-L": 2, "BOB-BLA-M": 4, "BOB-BLA-L": 1}
SOLD = "BOB-WHI-M"
FIRST_PRICE, NEW_PRICE = Decimal(64000), Decimal(69000)


@pytest.fixture(scope="module")
def api(app_url: str, settings: Settings) -> Iterator[httpx.Client]:
    key = create_api_key_sync(settings, name="back office test", scopes=ALL_SCOPES)
    with httpx.Client(
        base_url=app_url, timeout=30, headers={"Authorization": f"Bearer {key}"}
    ) as client:
        yield client


def month_totals(api: httpx.Client, settings: Settings) -> dict[str, Any]:
    today = settings.today()
    answer = api.get(
        "/api/v1/reports/sales",
        params={"granularity": "month", "from": today.replace(day=1).isoformat(), "to": today},
    )
    assert answer.status_code == 200, answer.text
    totals: dict[str, Any] = answer.json()["totals"]
    return totals


def sell_one(page: Page, code: str, price: Decimal) -> str:
    scan(page, code)
    expect(cart_line(page, SOLD)).to_be_visible()
    choose_method(page, "card")
    page.locator("#pay").click()
    sale_id = receipt_sale_id(page)
    expect(page.locator("#receipt-total")).to_have_text(f"{price:,.0f} Ks")
    return sale_id


def test_a_family_from_the_grid_to_labels_to_the_counter(
    signed_in: SignedIn, api: httpx.Client, settings: Settings, stream_job: ChildProcess
) -> None:
    manager = signed_in("manager")
    manager.goto("/manager/products/family")
    for field, value in {
        "sku_prefix": PREFIX,
        "style": "Browser Jacket",
        "style_my": "တိုက်ပုံ",
        "category": "Jacket",
        "unit_price": str(FIRST_PRICE),
        "cost_price": "38000",
        "reorder_point": "1",
        "sizes": "M, L",
        "colours": "White:အဖြူ, Black:အနက်",
    }.items():
        manager.locator(f"#g-{field}").fill(value)
    manager.locator("#show-grid").click()
    grid = manager.locator("#family-grid")
    expect(grid).to_be_visible()
    cells = {"BOB-WHI-M": "open_0_0", "BOB-WHI-L": "open_0_1"}
    cells |= {"BOB-BLA-M": "open_1_0", "BOB-BLA-L": "open_1_1"}
    for sku, name in cells.items():
        grid.locator(f'input[name="{name}"]').fill(str(OPENING[sku]))
    screenshot(manager, "manager-product-family")
    manager.locator("#create-family").click()
    expect(manager.locator("#products-message")).to_contain_text("4 product(s) added")
    rows = manager.locator("#products tbody tr")
    assert rows.evaluate_all("rs => rs.map(r => r.dataset.sku)") == SKUS
    screenshot(manager, "manager-products")

    # Labels: two of each; the print page carries each product's barcode, drawn as bars
    # that read back as that code.
    family = api.get("/api/v1/products", params={"q": f"{PREFIX}-"}).json()
    barcodes = {p["sku"]: p["barcode"] for p in family}
    assert sorted(barcodes) == SKUS and len(set(barcodes.values())) == 4
    manager.goto(f"/manager/labels?q={PREFIX}-")
    for sku in SKUS:
        manager.locator(f'input[name="qty_{sku}"]').fill("2")
    screenshot(manager, "manager-labels")
    with manager.context.expect_page() as opened:
        manager.locator("#print-labels").click()
    sheet = opened.value
    sheet.wait_for_load_state()
    expect(sheet.locator("#labels .label")).to_have_count(8)
    svgs = sheet.locator("#labels svg").evaluate_all("els => els.map(e => e.outerHTML)")
    assert sorted(decode_ean13_svg(svg) for svg in svgs) == sorted(list(barcodes.values()) * 2)
    shown = sheet.locator(f'.label[data-sku="{SOLD}"]').first
    expect(shown).to_contain_text("Browser Jacket White (M)")
    expect(shown).to_contain_text("64,000 Ks")
    expect(shown.locator(".my")).to_have_text("တိုက်ပုံ အဖြူ (M)")
    assert sheet.evaluate("document.fonts.check('16px \"Noto Sans Myanmar\"', 'တိုက်ပုံ')")
    screenshot(sheet, "labels-a4")
    roll_url = re.sub(r"format=a4", "format=roll", sheet.url)
    sheet.goto(roll_url)
    expect(sheet.locator("#labels .label")).to_have_count(8)
    pdf = sheet.pdf(prefer_css_page_size=True)
    # One 50 x 30 mm page per label: 141.7 x 85.0 points (Chromium rounds to its pixels).
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) == 8
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert len(boxes) == 8
    for width, height in boxes:
        assert abs(float(width) - 141.73) < 1.5 and abs(float(height) - 85.04) < 1.5
    screenshot(sheet, "labels-roll")
    sheet.close()

    # The opening stock arrives through the pipeline.
    def stocked() -> bool:
        on_hand = {s["sku"]: s["on_hand"] for s in api.get("/api/v1/stock").json()}
        return all(on_hand.get(sku) == n for sku, n in OPENING.items())

    wait_for(stocked, timeout=60, what="the family's opening stock")
    before = month_totals(api, settings)

    # A cashier scans the new label and sells one.
    cashier = signed_in("cashier")
    first_sale = sell_one(cashier, barcodes[SOLD], FIRST_PRICE)

    # The manager changes the price: the next sale charges it.
    manager.goto(f"/manager/products/{SOLD}/edit")
    manager.locator("#f-unit_price").fill(str(NEW_PRICE))
    manager.locator("#product-form button[type=submit]").click()
    expect(manager.locator("#product-message")).to_have_text("Saved.")
    history = manager.locator("#price-history tbody tr")
    expect(history).to_have_count(2)
    expect(history.first).to_contain_text("69,000 Ks")
    screenshot(manager, "manager-product-edit")

    cashier.locator("#new-sale").click()
    second_sale = sell_one(cashier, barcodes[SOLD], NEW_PRICE)
    assert first_sale != second_sale

    # The month's report is the two sales, exactly.
    def reported() -> dict[str, Any] | None:
        now = month_totals(api, settings)
        return now if now["sales"] == before["sales"] + 2 else None

    after = wait_for(reported, timeout=60, what="both sales in the month's report")
    assert after is not None
    assert Decimal(after["revenue"]) - Decimal(before["revenue"]) == FIRST_PRICE + NEW_PRICE
    assert after["units"] - before["units"] == 2
    today = settings.today()
    top = api.get(
        "/api/v1/reports/top-products",
        params={"year": today.year, "month": today.month, "limit": 100},
    ).json()["products"]
    ours = next(p for p in top if p["sku"] == SOLD)
    assert (ours["units"], Decimal(ours["revenue"])) == (2, FIRST_PRICE + NEW_PRICE)
    # Gross margin at the cost price: 133,000 - 2 x 38,000.
    assert Decimal(ours["margin"]) == FIRST_PRICE + NEW_PRICE - 2 * 38000
    stock = next(s for s in api.get("/api/v1/stock").json() if s["sku"] == SOLD)
    assert stock["on_hand"] == OPENING[SOLD] - 2


def test_the_import_page_previews_an_upload(
    signed_in: SignedIn, tmp_path: Any, settings: Settings
) -> None:
    """The import page in the browser: a file with a bad row shows its line and reason,
    rows to add and to change, and a confirm button; a screenshot for the README."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["sku", "name", "name_my", "category", "unit_price", "opening_stock"])
    sheet.append(["BOB-SCARF-1", "Silk Scarf Gold", "ပိုးပဝါ ရွှေ", "Scarf", "12000", "6"])
    sheet.append(
        ["LGY-COT-BLU", "Longyi Cotton Check Blue", "ချည်ပုဆိုး ကွက် အပြာ", "Longyi", "19000", None]
    )
    sheet.append(["BOB-SCARF-2", "Silk Scarf Red", None, "Scarf", "twelve", None])
    path = tmp_path / "catalogue.xlsx"
    book.save(path)
    manager = signed_in("manager")
    manager.goto("/manager/catalog/import")
    manager.locator("#import-file").set_input_files(str(path))
    manager.locator("#upload").click()
    expect(manager.locator("#import-summary")).to_have_text(
        "1 to add, 1 to change, 0 unchanged, 1 bad"
    )
    expect(manager.locator('#import-bad tr[data-line="4"]')).to_contain_text("unit_price")
    expect(manager.locator('#import-changes tr[data-column="unit_price"] .new')).to_have_text(
        "19000"
    )
    expect(manager.locator("#confirm-import")).to_be_visible()
    screenshot(manager, "manager-catalog-import")
    manager.goto("/manager/products/new")
    expect(manager.locator("#product-form")).to_be_visible()
    screenshot(manager, "manager-product-new")


def test_suppliers_and_a_purchase_order_in_the_browser(signed_in: SignedIn) -> None:
    manager = signed_in("manager")
    manager.goto("/manager/suppliers")
    manager.locator("#s-name").fill("Shwe Taung Weavers")
    manager.locator("#s-phone").fill("09 777 123 456")
    manager.locator("#s-viber").fill("09 777 123 456")
    manager.locator("#s-lead").fill("14")
    manager.locator("#s-notes").fill("silk longyi; half paid on order")
    manager.locator("#supplier-form button[type=submit]").click()
    expect(manager.locator("#suppliers")).to_contain_text("Shwe Taung Weavers")
    screenshot(manager, "manager-suppliers")

    manager.goto("/manager/purchase-orders")
    manager.locator("#hand-supplier").select_option(label="Shwe Taung Weavers")
    manager.locator("#hand-sku").fill("LGY-SLK-GRN")
    manager.locator("#hand-qty").fill("24")
    manager.locator("#order-by-hand button[type=submit]").click()
    expect(manager.locator("#order-status")).to_have_text("draft")
    manager.locator("#new-sku").fill("LGY-SLK-NVY")
    manager.locator("#new-qty").fill("12")
    manager.locator("#new-cost").fill("52000")
    manager.locator("#save-lines").click()
    expect(manager.locator("#order-lines tbody tr")).to_have_count(2)
    manager.locator("#mark-ordered").click()
    expect(manager.locator("#order-status")).to_have_text("ordered")
    screenshot(manager, "manager-purchase-order")
    manager.goto("/manager/purchase-orders")
    expect(manager.locator("#orders tbody tr").first.locator(".status")).to_have_text("ordered")
    screenshot(manager, "manager-purchase-orders")


def test_a_count_sheet_counts_what_is_scanned(signed_in: SignedIn, api: httpx.Client) -> None:
    code = api.get("/api/v1/products", params={"q": "LGY-COT-GRN"}).json()[0]["barcode"]
    manager = signed_in("manager")
    manager.goto("/manager/stock-counts?category=Longyi&expected=true")
    scan_box = manager.locator("#count-scan")
    for typed in (code, code, "lgy-cot-blu"):  # two scans and a typed SKU
        scan_box.fill(typed)
        scan_box.press("Enter")
    expect(manager.locator('input[name="count_LGY-COT-GRN"]')).to_have_value("2")
    expect(manager.locator('input[name="count_LGY-COT-BLU"]')).to_have_value("1")
    scan_box.fill("0000000000000")
    scan_box.press("Enter")
    expect(manager.locator("#scan-message")).to_have_text("0000000000000: not on this sheet")
    expect(manager.locator("#variance")).to_have_count(0)  # Enter in the scan box posts nothing
    screenshot(manager, "manager-stock-count")
