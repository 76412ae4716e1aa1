"""Each manager page, in a real browser, shows the numbers the REST API gives."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import date

import httpx
import pytest
from playwright.sync_api import Page

from pos_app.auth.cli import create_api_key_sync
from pos_app.auth.roles import ALL_SCOPES
from pos_app.contract import SaleCompleted
from pos_app.imports.load import publish
from pos_app.money import kyat
from pos_app.settings import Settings
from tests.browser.support import SignedIn, screenshot
from tests.factories import sale_event
from tests.stack_support import ChildProcess, wait_for

pytestmark = pytest.mark.stack
LOW_SKU, OTHER_SKU = "LGY-ACH-PUR", "TKP-BLK-S"  # no other browser test sells these


@pytest.fixture(scope="module")
def api(app_url: str, settings: Settings) -> Iterator[httpx.Client]:
    key = create_api_key_sync(settings, name="manager pages test", scopes=ALL_SCOPES)
    with httpx.Client(
        base_url=app_url, timeout=30, headers={"Authorization": f"Bearer {key}"}
    ) as client:
        yield client


def publish_in_thread(settings: Settings, events: list[SaleCompleted]) -> None:
    # Playwright's sync API holds an event loop in this thread: publish from another.
    worker = threading.Thread(target=lambda: asyncio.run(publish(settings, events, rate=None)))
    worker.start()
    worker.join()


@pytest.fixture(scope="module")
def sold(api: httpx.Client, stream_job: ChildProcess, settings: Settings) -> None:
    """Two sales the pipeline has stored today: LOW_SKU ends under its reorder point.
    And a year-old sale of LOW_SKU in next month's month, so the plan has a history."""
    today = settings.today()
    year, month = (today.year, today.month + 1) if today.month < 12 else (today.year + 1, 1)
    history = sale_event(
        [(LOW_SKU, 6, "235000")], occurred_at=f"{year - 1}-{month:02d}-15T11:00:00+06:30"
    )
    publish_in_thread(settings, [SaleCompleted.model_validate(history)])
    before = {s["sku"]: s["total_sold"] for s in api.get("/api/v1/stock").json()}
    for lines in (
        [{"sku": LOW_SKU, "quantity": 2}, {"sku": OTHER_SKU, "quantity": 1}],
        [{"sku": OTHER_SKU, "quantity": 2}],
    ):
        answer = api.post("/api/v1/sales", json={"lines": lines})
        assert answer.status_code == 201, answer.text

    def stored() -> bool:
        now = {s["sku"]: s["total_sold"] for s in api.get("/api/v1/stock").json()}
        return now[LOW_SKU] >= before[LOW_SKU] + 2 and now[OTHER_SKU] == before[OTHER_SKU] + 3

    wait_for(stored, timeout=60, what="the sales in stock")


def cells(page: Page, selector: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in row.locator("td").all_inner_texts()]
        for row in page.locator(selector).all()
    ]


@pytest.mark.usefixtures("sold")
def test_the_dashboard_shows_the_apis_figures(signed_in: SignedIn, api: httpx.Client) -> None:
    page = signed_in("manager")
    page.goto("/manager/dashboard")
    data = api.get("/api/v1/reports/dashboard").json()
    shown = page.locator("#period-totals strong").all_inner_texts()
    assert shown[:3] == [
        kyat(data["period"]["revenue"]),
        f"{data['period']['sales']:,}",
        f"{data['period']['units']:,}",
    ]
    # The fourth is the gross margin (tests/browser/test_margin_browser.py checks its figure).
    assert shown[3:] == [page.locator("#period-margin strong").inner_text()]
    assert data["period"]["sales"] >= 2
    table = {
        row[0]: (int(row[1]), int(row[2])) for row in cells(page, "#stock-against-sold tbody tr")
    }
    for item in data["stock_against_sold"]:
        assert table[item["name"]] == (item["sold"], item["on_hand"])
    screenshot(page, "manager-dashboard")


@pytest.mark.usefixtures("sold")
def test_top_products_shows_each_months_ranking(signed_in: SignedIn, api: httpx.Client) -> None:
    year = date.today().year
    page = signed_in("manager")
    page.goto(f"/manager/top-products?year={year}")
    assert page.locator("#top-products-heat-map svg text").count() > 0
    shown = {
        (row.get_attribute("data-month"), row.get_attribute("data-sku")): [
            t.strip() for t in row.locator("td").all_inner_texts()
        ][1:]
        for row in page.locator("#top-products tbody tr").all()
    }
    months = {month for month, _ in shown}
    assert months
    for month in months:
        ranked = api.get(
            "/api/v1/reports/top-products",
            params={"year": year, "month": month, "by": "revenue", "limit": 5},
        ).json()["products"]
        for product in ranked:
            rank, name, units, revenue, margin = shown[(month, product["sku"])]
            assert int(rank) == product["rank"]
            assert product["sku"] in name
            assert int(units.replace(",", "")) == product["units"]
            assert revenue == kyat(product["revenue"])
            expected = product["margin"]
            assert margin == (kyat(expected) if expected is not None else "\u2013")
    screenshot(page, "manager-top-products")


@pytest.mark.usefixtures("sold")
def test_low_stock_lists_what_the_api_lists(signed_in: SignedIn, api: httpx.Client) -> None:
    page = signed_in("manager")
    page.goto("/manager/low-stock")
    low = api.get("/api/v1/stock/low").json()
    assert LOW_SKU in {r["sku"] for r in low}
    rows = page.locator("#low-stock tbody tr").all()
    assert [r.get_attribute("data-sku") for r in rows] == [r["sku"] for r in low]
    row = page.locator(f'#low-stock tr[data-sku="{LOW_SKU}"] td').all_inner_texts()
    expected = next(r for r in low if r["sku"] == LOW_SKU)
    assert row[2].split()[0] == str(expected["on_hand"])
    assert row[3] == str(expected["avg_daily_sales"])
    screenshot(page, "manager-low-stock")


@pytest.mark.usefixtures("sold")
def test_the_refill_plan_page_shows_the_apis_orders(signed_in: SignedIn, api: httpx.Client) -> None:
    plan = api.get("/api/v1/reports/refill-plan", params={"months": 3, "refresh": True}).json()
    page = signed_in("manager")
    page.goto("/manager/refill-plan")
    to_order = {
        (r["sku"], r["month"]): r["suggested_order"] for r in plan["rows"] if r["suggested_order"]
    }
    shown = {
        (row.get_attribute("data-sku"), row.get_attribute("data-month")): int(
            row.locator("td.order").inner_text()
        )
        for row in page.locator("#refill-plan tbody tr").all()
    }
    assert shown == to_order
    assert to_order[(LOW_SKU, plan["rows"][0]["month"])] > 0  # sold last year, low now
    screenshot(page, "manager-refill-plan")
