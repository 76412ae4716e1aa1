"""The dashboard's gross margin in a real headless Chromium: the period's margin beside
its sales, as the API computes it, and a margin per best product."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
from playwright.sync_api import expect

from pos_app.auth.cli import create_api_key_sync
from pos_app.auth.roles import ALL_SCOPES
from pos_app.i18n import formatting
from pos_app.settings import Settings
from tests.browser.support import SignedIn, screenshot
from tests.stack_support import ChildProcess, wait_for

pytestmark = pytest.mark.stack
SKU = "BAG-SHN-BLU"


@pytest.fixture(scope="module")
def api(app_url: str, settings: Settings) -> Iterator[httpx.Client]:
    key = create_api_key_sync(settings, name="margin browser test", scopes=ALL_SCOPES)
    with httpx.Client(
        base_url=app_url, timeout=30, headers={"Authorization": f"Bearer {key}"}
    ) as client:
        yield client


def test_the_dashboard_shows_the_margin_beside_the_sales(
    signed_in: SignedIn, api: httpx.Client, settings: Settings, stream_job: ChildProcess
) -> None:
    today = settings.today()
    params = {"year": today.year, "month": today.month}
    before = api.get("/api/v1/reports/dashboard", params=params).json()["period"]
    assert api.patch(f"/api/v1/products/{SKU}", json={"cost_price": "9000"}).status_code == 200
    sold = api.post("/api/v1/sales", json={"lines": [{"sku": SKU, "quantity": 1}]})
    assert sold.status_code == 201, sold.text

    def applied() -> dict[str, object] | None:
        period = api.get("/api/v1/reports/dashboard", params=params).json()["period"]
        return period if period["sales"] == before["sales"] + 1 else None

    period = wait_for(applied, timeout=60, what="the sale in the dashboard")
    margin = Decimal(str(period["margin"]))
    manager = signed_in("manager")
    manager.goto(f"/manager/dashboard?year={today.year}&month={today.month}")
    expect(manager.locator("#period-margin strong")).to_have_text(
        formatting.kyat(margin, "en", settings.shop_digits)
    )
    expect(manager.locator("#product-margins")).to_be_visible()
    screenshot(manager, "manager-dashboard-margin")
