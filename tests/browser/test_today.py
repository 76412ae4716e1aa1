"""The manager's Today view in a real headless Chromium, on the real stack: it follows
sales posted through the API without a reload, and shows reorder-point alerts once per
crossing, with an Acknowledge button."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from pos_app.auth.cli import create_api_key_sync
from pos_app.settings import Settings
from tests.browser.support import SignedIn, screenshot
from tests.stack_support import ChildProcess
from tests.today_support import average, kyat, wait_idle, wait_stored

pytestmark = pytest.mark.stack

# The view follows the pipeline by push (/live/events): a stored sale shows within 5 s.
WITHIN_MS = 5_000
SCREENS = {"phone": (390, 844), "desktop": (1280, 800)}
ALERT_SKU = "TKP-WHT-M"  # sold by no other test
SOLD = ("EGY-WHT-M", "SDL-BLK-7")  # sold by no other test
SCOPES = ["sales:write", "sales:read", "stock:read", "catalog:read", "reports:read"]
SCOPES += ["inventory:write"]  # receiving goods


@pytest.fixture(scope="module")
def api(app_url: str, settings: Settings) -> Iterator[httpx.Client]:
    key = create_api_key_sync(
        settings,
        name="today browser test",
        scopes=SCOPES,
    )
    with httpx.Client(
        base_url=app_url, timeout=15, headers={"Authorization": f"Bearer {key}"}
    ) as client:
        yield client


def today_view(signed_in: SignedIn, screen: str) -> Page:
    page = signed_in("manager", "desktop")
    width, height = SCREENS[screen]
    page.set_viewport_size({"width": width, "height": height})
    page.goto("/manager/today")
    expect(page.locator("#today-revenue")).to_be_visible()
    # Gone if the page reloads: the view must update in place.
    page.evaluate("window.todayMarker = 'still here'")
    return page


def still_same_page(page: Page) -> None:
    assert page.evaluate("window.todayMarker") == "still here"


def sell(api: httpx.Client, lines: list[tuple[str, int]]) -> dict[str, Any]:
    response = api.post(
        "/api/v1/sales", json={"lines": [{"sku": s, "quantity": q} for s, q in lines]}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def stock(api: httpx.Client, sku: str) -> dict[str, Any]:
    return next(s for s in api.get("/api/v1/stock").json() if s["sku"] == sku)


def alerts_for(api: httpx.Client, sku: str) -> list[dict[str, Any]]:
    return [a for a in api.get("/api/v1/alerts").json() if a["sku"] == sku]


def test_one_alert_per_crossing_acknowledged_from_the_view(
    signed_in: SignedIn, api: httpx.Client, mysql: Any, stream_job: ChildProcess
) -> None:
    wait_idle(mysql)
    level = stock(api, ALERT_SKU)
    gap = level["on_hand"] - level["reorder_point"]
    assert gap >= 3, level
    assert alerts_for(api, ALERT_SKU) == []
    page = today_view(signed_in, "desktop")
    shown = page.locator(f'.stock-alert[data-sku="{ALERT_SKU}"]')

    # Down to two above the point, one above, then under it: one crossing, one alert.
    for quantity in (gap - 2, 1, 2):
        wait_stored(mysql, [sell(api, [(ALERT_SKU, quantity)])["sale_id"]])
    expect(shown).to_have_count(1, timeout=WITHIN_MS)
    # Selling further below the point raises nothing new.
    wait_stored(mysql, [sell(api, [(ALERT_SKU, 1)])["sale_id"]])
    page.wait_for_timeout(2_500)  # the push for that batch has come and gone
    expect(shown).to_have_count(1)
    assert len(alerts_for(api, ALERT_SKU)) == 1
    first_id = shown.get_attribute("data-alert-id")
    expect(shown).to_contain_text(f"{level['reorder_point'] - 1} on hand")

    # The counter lists it too, read-only.
    counter = signed_in("cashier", "desktop")
    on_counter = counter.locator(f'.reorder-alert[data-sku="{ALERT_SKU}"]')
    expect(on_counter).to_have_count(1)
    expect(counter.locator("#alert-strip button")).to_have_count(0)

    shown.get_by_role("button", name="Acknowledge").click()
    expect(shown).to_have_count(0, timeout=WITHIN_MS)
    still_same_page(page)
    (acknowledged,) = alerts_for(api, ALERT_SKU)
    assert acknowledged["acknowledged_by"] and acknowledged["acknowledged_by"].startswith(
        "manager-"
    )
    expect(on_counter).to_have_count(0, timeout=WITHIN_MS)  # pushed there too

    # Goods received lift it back over the point; selling down again is a new crossing.
    receipt = api.post(
        "/api/v1/inventory/receipts", json={"lines": [{"sku": ALERT_SKU, "quantity": 10}]}
    )
    assert receipt.status_code == 201, receipt.text
    wait_stored(mysql, [receipt.json()["receipt_id"]])
    assert stock(api, ALERT_SKU)["on_hand"] == level["reorder_point"] + 8
    wait_stored(mysql, [sell(api, [(ALERT_SKU, 9)])["sale_id"]])
    expect(shown).to_have_count(1, timeout=WITHIN_MS)
    assert shown.get_attribute("data-alert-id") != first_id
    assert len(alerts_for(api, ALERT_SKU)) == 2
    still_same_page(page)


@pytest.mark.parametrize("screen", list(SCREENS))
def test_the_view_follows_each_sale_without_a_reload(
    screen: str, signed_in: SignedIn, api: httpx.Client, mysql: Any, stream_job: ChildProcess
) -> None:
    wait_idle(mysql)
    page = today_view(signed_in, screen)
    before = api.get("/api/v1/reports/today").json()["today"]
    revenue, count, units = Decimal(before["revenue"]), before["sales"], before["units"]
    prices = {
        p["sku"]: Decimal(p["unit_price"])
        for p in api.get("/api/v1/products").json()
        if p["sku"] in SOLD
    }
    for lines in ([(SOLD[0], 2)], [(SOLD[1], 1), (SOLD[0], 1)]):
        sale = sell(api, lines)
        wait_stored(mysql, [sale["sale_id"]])
        revenue += sum(prices[sku] * quantity for sku, quantity in lines)
        count += 1
        units += sum(quantity for _, quantity in lines)
        # Each figure, exactly, within 5 s of the pipeline storing the sale.
        expect(page.locator("#today-revenue .now")).to_have_text(kyat(revenue), timeout=WITHIN_MS)
        expect(page.locator("#today-sales .now")).to_have_text(f"{count:,}", timeout=WITHIN_MS)
        expect(page.locator("#today-units .now")).to_have_text(f"{units:,}", timeout=WITHIN_MS)
        expect(page.locator("#today-average .now")).to_have_text(
            kyat(average(revenue, count)), timeout=WITHIN_MS
        )
        newest = page.locator("#recent-sales tbody tr").first
        expect(newest).to_have_attribute("data-sale-id", sale["sale_id"], timeout=WITHIN_MS)
        expect(newest).to_contain_text(kyat(Decimal(sale["totals"]["total"])))
        still_same_page(page)

    # The chart's bar for this hour carries this hour's revenue.
    hour = next(
        h
        for h in reversed(api.get("/api/v1/reports/today").json()["by_hour"])
        if Decimal(h["revenue"])
    )
    bar = page.locator("rect.s0 title", has_text=f"{hour['hour']:02d}: ")
    expect(bar).to_have_text(f"{hour['hour']:02d}: {kyat(Decimal(hour['revenue']))}")
    expect(page.locator("#lag-outbox")).to_have_text("0")
    # Nothing wider than the screen: the phone needs no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= SCREENS[screen][0]
    screenshot(page, f"today-{screen}")
