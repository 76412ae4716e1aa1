"""The shop in Burmese in a real headless Chromium, on a laptop (1280x800) and a phone
(390x844): a full sale with its receipt, the Today view and the refill plan show Burmese
labels and kyat in Myanmar digits, and no label, amount or button is wider than its box.
English phone screens too, for the README's side-by-side."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from pos_app.auth.cli import create_api_key_sync
from pos_app.auth.roles import ALL_SCOPES
from pos_app.contract import SaleCompleted
from pos_app.imports.load import publish
from pos_app.settings import Settings
from tests.browser.support import SignedIn, screenshot
from tests.factories import sale_event
from tests.stack_support import ChildProcess, wait_for

pytestmark = pytest.mark.stack

SOLD_SKU = "GBG-PNK-22"  # 32,000 Ks; sold by no other browser test
PLAN_SKU = "LGY-COT-GRY"  # 9 on hand, reorder at 8: sold a year ago, so the plan orders it
CASES = [("my", "desktop"), ("my", "phone"), ("en", "phone")]
# An amount in the reader's digits and unit; an average may carry its pyas (cents).
KYAT = {
    "my": re.compile("^[၀-၉][၀-၉,]*(\\.[၀-၉]{2})? ကျပ်$"),
    "en": re.compile("^[0-9][0-9,]*(\\.[0-9]{2})? Ks$"),
}
WORDS = {
    "my": {
        "empty": "ဈေးခြင်း ဗလာ ဖြစ်နေသည်: ရှာပါ၊ စကင်ဖတ်ပါ (သို့) ပစ္စည်းကတ်ကို ရွေးပါ။",
        "count": "ပစ္စည်း ၁ ခု",
        "total": "၃၂,၀၀၀ ကျပ်",
        "pay": "၃၂,၀၀၀ ကျပ် ငွေရှင်းမည်",
        "change": "၁၈,၀၀၀ ကျပ်",
        "receipt": ("ငွေသား", "ပေးငွေ", "ပြန်အမ်းငွေ", "စုစုပေါင်း (ပစ္စည်း ၁ ခု)", "ကျေးဇူးတင်ပါသည်"),
        "today": "ယနေ့",
        "revenue": "ရောင်းရငွေ",
        "plan": "ပစ္စည်းဖြည့် အစီအစဉ်",
        "why": "မနှစ်",
    },
    "en": {
        "empty": "The cart is empty: search, scan or pick a tile.",
        "count": "1 item",
        "total": "32,000 Ks",
        "pay": "Pay 32,000 Ks",
        "change": "18,000 Ks",
        "receipt": ("Cash", "Tendered", "Change", "Total (1 item)", "Thank you"),
        "today": "Today",
        "revenue": "Revenue",
        "plan": "Refill plan",
        "why": "last year sold",
    },
}
# Every box a word or an amount sits in; none may be narrower than what it holds.
BOXES = (
    "button, a, label, td, th, h1, h2, h3, summary, legend, .figure, .figure *, .tile, "
    ".tile-name, .receipt, .receipt div, .cart-line, .line-name, .stock-alert, .notice, "
    ".error, .alert-strip, .top nav, .muted"
)
OVERFLOWING = """(selector) => {
  const out = [];
  const width = document.documentElement.clientWidth;
  for (const box of document.querySelectorAll(selector)) {
    if (box.offsetParent === null && getComputedStyle(box).position !== "fixed") continue;
    const rect = box.getBoundingClientRect();
    if (rect.width === 0) continue;
    if (box.scrollWidth > box.clientWidth + 1 && getComputedStyle(box).overflowX === "visible"
        && box.clientWidth > 0)
      out.push(`${box.tagName}.${box.className} (${box.scrollWidth} > ${box.clientWidth}): `
               + box.textContent.trim().slice(0, 60));
    const parent = box.parentElement;
    if (parent && !["TR", "TBODY", "TABLE", "svg"].includes(parent.tagName)) {
      const outer = parent.getBoundingClientRect();
      if (rect.right > outer.right + 1 && getComputedStyle(parent).overflowX === "visible")
        out.push(`${box.tagName}.${box.className} sticks out of ${parent.tagName}.`
                 + `${parent.className}: ` + box.textContent.trim().slice(0, 60));
    }
    if (rect.right > width + 1 && !box.closest("table, .table-scroll, svg"))
      out.push(`${box.tagName}.${box.className} beyond the screen: `
               + box.textContent.trim().slice(0, 60));
  }
  return out;
}"""


def assert_nothing_overflows(page: Page) -> None:
    page.evaluate("document.fonts.ready")
    overflowing = page.evaluate(OVERFLOWING, BOXES)
    assert overflowing == [], "\n".join(overflowing)


@pytest.fixture(scope="module")
def api(app_url: str, settings: Settings) -> Iterator[httpx.Client]:
    key = create_api_key_sync(settings, name="burmese pages test", scopes=sorted(ALL_SCOPES))
    with httpx.Client(
        base_url=app_url, timeout=30, headers={"Authorization": f"Bearer {key}"}
    ) as client:
        yield client


@pytest.fixture(scope="module")
def history(api: httpx.Client, stream_job: ChildProcess, settings: Settings) -> None:
    """PLAN_SKU sold in next month's month a year ago (so the plan orders it), and one
    sale today that the pipeline has stored (so Today shows a row)."""
    today = settings.today()
    year, month = (today.year, today.month + 1) if today.month < 12 else (today.year + 1, 1)
    old = sale_event(
        [(PLAN_SKU, 12, "18000")], occurred_at=f"{year - 1}-{month:02d}-10T11:00:00+06:30"
    )
    worker = threading.Thread(
        target=lambda: asyncio.run(
            publish(settings, [SaleCompleted.model_validate(old)], rate=None)
        )
    )
    worker.start()
    worker.join()
    sold = api.post("/api/v1/sales", json={"lines": [{"sku": PLAN_SKU, "quantity": 1}]})
    assert sold.status_code == 201, sold.text

    def stored() -> bool:
        recent = api.get("/api/v1/reports/today").json()["recent_sales"]
        return any(s["sale_id"] == sold.json()["sale_id"] for s in recent)

    wait_for(stored, timeout=120, what="today's sale stored by the pipeline")
    refreshed = api.get("/api/v1/reports/refill-plan", params={"months": 3, "refresh": True})
    assert refreshed.status_code == 200


@pytest.mark.parametrize(("locale", "screen"), CASES)
def test_a_full_sale_with_its_receipt(signed_in: SignedIn, locale: str, screen: str) -> None:
    words = WORDS[locale]
    page = signed_in("cashier", screen, locale=locale)
    expect(page.locator("html")).to_have_attribute("lang", locale)
    expect(page.locator("#cart-empty")).to_have_text(words["empty"])
    page.locator(f'button.variant[value="{SOLD_SKU}"]').click()
    expect(page.locator("#cart-total")).to_have_text(words["total"])
    expect(page.locator("#cart-count")).to_have_text(words["count"])
    expect(page.locator("#pay")).to_have_text(words["pay"])
    assert_nothing_overflows(page)
    page.locator("#search").focus()
    screenshot(page, f"counter-{locale}-{screen}")

    page.locator("#tendered").fill("50000")
    page.locator("#pay").click()
    receipt = page.locator("#receipt")
    expect(page.locator("#receipt-total")).to_have_text(words["total"])
    expect(page.locator("#receipt-change")).to_have_text(words["change"])
    for text in words["receipt"]:
        expect(receipt).to_contain_text(text)
    assert_nothing_overflows(page)
    receipt.scroll_into_view_if_needed()
    screenshot(page, f"receipt-{locale}-{screen}", selector="#cart-panel")


@pytest.mark.usefixtures("history")
@pytest.mark.parametrize(("locale", "screen"), CASES)
def test_the_today_view(signed_in: SignedIn, locale: str, screen: str) -> None:
    words = WORDS[locale]
    page = signed_in("manager", screen, locale=locale)
    page.goto("/manager/today")
    expect(page.locator("html")).to_have_attribute("lang", locale)
    expect(page.locator("h1.today-title")).to_contain_text(words["today"])
    expect(page.locator("#today-revenue .label")).to_have_text(words["revenue"])
    for figure in ("#today-revenue", "#today-average"):
        assert KYAT[locale].match(page.locator(f"{figure} .now").inner_text().strip())
    totals = page.locator("#recent-sales tbody tr td.num:last-child").all_inner_texts()
    assert totals and all(KYAT[locale].match(t.strip()) for t in totals)
    if locale == "my":
        assert not re.search("[0-9]", page.locator(".today-figures").inner_text())
    assert_nothing_overflows(page)
    screenshot(page, f"today-{locale}-{screen}")


@pytest.mark.usefixtures("history")
@pytest.mark.parametrize(("locale", "screen"), CASES)
def test_the_refill_plan(signed_in: SignedIn, locale: str, screen: str) -> None:
    words = WORDS[locale]
    page = signed_in("manager", screen, locale=locale)
    page.goto("/manager/refill-plan")
    expect(page.locator("h1")).to_have_text(words["plan"])
    row = page.locator(f'#refill-plan tbody tr[data-sku="{PLAN_SKU}"]').first
    expect(row).to_be_visible()
    order = row.locator("td.order").inner_text().strip()
    assert re.fullmatch("[၀-၉]+" if locale == "my" else "[0-9]+", order)
    expect(row.locator("td.reason")).to_contain_text(words["why"])
    assert_nothing_overflows(page)
    screenshot(page, f"refill-plan-{locale}-{screen}")
