"""Low stock: what is at or under its reorder point, how fast it sells, when it runs out."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import httpx
import pytest

from pos_app.settings import Settings
from tests.stack_support import ChildProcess, log_in, wait_for

pytestmark = pytest.mark.stack
SKU = "GBG-TIE-ORG"  # sold by no other test


@pytest.fixture
def manager(app_url: str, users: dict[str, str]) -> Iterator[tuple[httpx.Client, str]]:
    with httpx.Client(base_url=app_url, timeout=15, follow_redirects=False) as client:
        yield client, log_in(client, "manager", users["manager"])


def stock_of(api: httpx.Client, sku: str) -> dict[str, int]:
    return next(s for s in api.get("/api/v1/stock").json() if s["sku"] == sku)


def test_a_low_sku_shows_its_rate_of_sale_and_run_out_date(
    api: httpx.Client, stream_job: ChildProcess, settings: Settings
) -> None:
    before = stock_of(api, SKU)
    for _ in range(3):
        sale = api.post("/api/v1/sales", json={"lines": [{"sku": SKU, "quantity": 2}]})
        assert sale.status_code == 201, sale.text
    after = wait_for(
        lambda: (s := stock_of(api, SKU))["total_sold"] == before["total_sold"] + 6 and s,
        timeout=15,
        what="the sales in stock",
    )
    patched = api.patch(f"/api/v1/products/{SKU}", json={"reorder_point": after["on_hand"] + 5})
    assert patched.status_code == 200, patched.text

    row = next(r for r in api.get("/api/v1/stock/low").json() if r["sku"] == SKU)
    assert row["sold_last_28_days"] == 6
    assert Decimal(row["avg_daily_sales"]) == Decimal("0.21")  # 6 / 28
    days = Decimal(after["on_hand"] * 28) / 6
    assert Decimal(row["days_of_cover"]) == days.quantize(Decimal("0.1"))
    today = settings.today()
    assert row["runs_out_on"] == (today + timedelta(days=int(days))).isoformat()

    exported = api.get("/api/v1/stock/low.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    records = list(csv.DictReader(io.StringIO(exported.text)))
    assert any(r["sku"] == SKU and r["sold_last_28_days"] == "6" for r in records)


def test_low_stock_sorts_by_any_column(api: httpx.Client) -> None:
    skus = [r["sku"] for r in api.get("/api/v1/stock/low?sort=sku&order=desc").json()]
    assert skus == sorted(skus, reverse=True) and skus
    on_hand = [r["on_hand"] for r in api.get("/api/v1/stock/low?sort=on_hand").json()]
    assert on_hand == sorted(on_hand)


def test_bad_reorder_points_are_refused(api: httpx.Client) -> None:
    assert api.patch("/api/v1/products/NO-SUCH", json={"reorder_point": 3}).status_code == 404
    assert api.patch(f"/api/v1/products/{SKU}", json={"reorder_point": -1}).status_code == 422


def test_a_manager_edits_a_reorder_point_on_the_page(
    manager: tuple[httpx.Client, str], api: httpx.Client
) -> None:
    client, token = manager
    page = client.get("/manager/low-stock")
    assert page.status_code == 200
    saved = client.post(
        f"/manager/products/{SKU}/reorder-point", data={"reorder_point": "40", "csrf_token": token}
    )
    assert saved.status_code == 303
    assert stock_of(api, SKU)["reorder_point"] == 40
    assert f'data-sku="{SKU}"' in client.get("/manager/low-stock").text
    log = api.get("/api/v1/audit").json()
    change = next(
        e
        for e in log
        if e["action"] == "product.reorder_point_changed"
        and e["target"] == f"product:{SKU}"
        and (e["details"] or {}).get("to") == 40
    )
    assert change["actor"] == "user:manager"
    unauthorised = client.post(
        f"/manager/products/{SKU}/reorder-point", data={"reorder_point": "1"}
    )
    assert unauthorised.status_code == 403  # no CSRF token


def test_run_out_dates_are_in_the_shop_calendar(settings: Settings) -> None:
    assert isinstance(settings.today(), date)
