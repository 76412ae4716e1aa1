"""GET /api/v1/reports/today on the real stack: today's figures net of returns, the same
weekday last week up to the same time of day, today by hour, the latest sales, the
pipeline's lag, and who may read it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import Engine, text

from pos_app.auth.cli import create_api_key_sync
from pos_app.settings import Settings
from tests.factories import encode, sale_event
from tests.stack_support import ChildProcess, log_in, wait_for
from tests.today_support import average, wait_idle, wait_stored

pytestmark = pytest.mark.stack
SKU_A, SKU_B = "LGY-COT-BRN", "LGY-SLK-BLU"  # sold by no other test


def price(api: httpx.Client, sku: str) -> Decimal:
    return Decimal(
        next(p for p in api.get("/api/v1/products").json() if p["sku"] == sku)["unit_price"]
    )


def today_of(api: httpx.Client) -> dict[str, Any]:
    response = api.get("/api/v1/reports/today")
    assert response.status_code == 200, response.text
    return response.json()


def figures(block: dict[str, Any]) -> tuple[Decimal, int, int, Decimal]:
    return (
        Decimal(block["revenue"]),
        block["sales"],
        block["units"],
        Decimal(block["average_sale"]),
    )


def test_today_counts_what_the_pipeline_stored(
    api: httpx.Client,
    stream_job: ChildProcess,
    mysql: Engine,
    settings: Settings,
    publish: Callable[[list[tuple[bytes | None, bytes]]], None],
) -> None:
    wait_idle(mysql)
    before = today_of(api)
    price_a, price_b = price(api, SKU_A), price(api, SKU_B)

    # Two sales a week ago: 10 minutes before this time of day (counted in "last week")
    # and 10 minutes after it (not yet). Published as the app would, through Kafka.
    zone = ZoneInfo(settings.shop_timezone)
    now = datetime.now(zone)
    earlier = sale_event(
        [(SKU_A, 2, str(price_a))],
        occurred_at=(now - timedelta(days=7, minutes=10)).isoformat(timespec="seconds"),
    )
    later = sale_event(
        [(SKU_A, 1, str(price_a))],
        occurred_at=(now - timedelta(days=7) + timedelta(minutes=10)).isoformat(timespec="seconds"),
    )
    publish([encode(earlier), encode(later)])

    first = api.post("/api/v1/sales", json={"lines": [{"sku": SKU_A, "quantity": 3}]})
    assert first.status_code == 201, first.text
    second = api.post(
        "/api/v1/sales",
        json={"lines": [{"sku": SKU_B, "quantity": 1}, {"sku": SKU_A, "quantity": 1}]},
    )
    assert second.status_code == 201, second.text
    first_id, second_id = first.json()["sale_id"], second.json()["sale_id"]
    wait_stored(mysql, [first_id, second_id, earlier["sale_id"], later["sale_id"]])
    # One of the first sale's three comes back: today's revenue and units go down.
    returned = api.post(
        f"/api/v1/sales/{first_id}/returns",
        json={"reason": "too small", "lines": [{"line_no": 1, "quantity": 1}]},
    )
    assert returned.status_code == 201, returned.text
    wait_stored(mysql, [returned.json()["return_id"]])

    revenue, count, units, _ = figures(before["today"])
    revenue += 3 * price_a + price_b + price_a - price_a
    count += 2
    units += 3 + 1 + 1 - 1
    after = wait_for(
        lambda: (t := today_of(api))["today"]["sales"] == count and t,
        timeout=15,
        what="today's figures to count both sales",
    )
    assert figures(after["today"]) == (revenue, count, units, average(revenue, count))
    # Money goes out as decimal strings, never as JSON numbers.
    assert isinstance(after["today"]["revenue"], str)
    assert isinstance(after["today"]["average_sale"], str)

    # Last week: only the sale made before this time of day (unless that fell on
    # another date, near midnight).
    lw_revenue, lw_count, lw_units, _ = figures(before["last_week"])
    week_ago = datetime.fromisoformat(after["last_week_date"]).date()
    if datetime.fromisoformat(earlier["occurred_at"]).date() == week_ago:
        lw_revenue, lw_count, lw_units = lw_revenue + 2 * price_a, lw_count + 1, lw_units + 2
    assert figures(after["last_week"]) == (
        lw_revenue,
        lw_count,
        lw_units,
        average(lw_revenue, lw_count),
    )
    assert after["last_week_date"] == (now.date() - timedelta(days=7)).isoformat()

    # By hour: today's bars add up to today's revenue; last week's whole day holds both
    # of last week's sales (what falls on that date).
    assert len(after["by_hour"]) == 24
    assert sum(Decimal(h["revenue"]) for h in after["by_hour"]) == revenue
    lw_day = sum(Decimal(h["revenue_last_week"]) for h in before["by_hour"])
    for event, quantity in ((earlier, 2), (later, 1)):
        if datetime.fromisoformat(event["occurred_at"]).date() == week_ago:
            lw_day += quantity * price_a
    assert sum(Decimal(h["revenue_last_week"]) for h in after["by_hour"]) == lw_day

    # The same figures as the period table the stream job keeps.
    with mysql.connect() as conn:
        daily = (
            conn.execute(
                text(
                    "SELECT revenue, units, sales_count FROM sales_daily "
                    "WHERE store_id = :s AND sale_date = :d"
                ),
                {"s": settings.store_id, "d": after["date"]},
            )
            .mappings()
            .one()
        )
    assert (daily["revenue"], daily["sales_count"], daily["units"]) == (revenue, count, units)

    # The latest sales, newest first, with their totals before the return.
    recent = after["recent_sales"]
    assert [s["sale_id"] for s in recent[:2]] == [second_id, first_id]
    assert Decimal(recent[0]["total"]) == price_b + price_a and recent[0]["units"] == 2
    assert Decimal(recent[1]["total"]) == 3 * price_a and recent[1]["units"] == 3
    assert len(recent) <= 20

    lag = after["pipeline"]
    assert lag["outbox_pending"] == 0
    assert 0 <= lag["newest_sale_age_seconds"] < 120
    assert lag["last_batch_age_seconds"] is not None and lag["last_batch_age_seconds"] < 120


@pytest.fixture
def manager_client(app_url: str, users: dict[str, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=app_url, timeout=15, follow_redirects=False) as client:
        log_in(client, "manager", users["manager"])
        yield client


def test_who_may_read_today(
    app_url: str, settings: Settings, users: dict[str, str], manager_client: httpx.Client
) -> None:
    url = f"{app_url}/api/v1/reports/today"
    assert httpx.get(url).status_code == 401
    reader = create_api_key_sync(settings, name="today reader", scopes=["reports:read"])
    seller = create_api_key_sync(settings, name="till", scopes=["sales:write", "sales:read"])
    assert httpx.get(url, headers={"Authorization": f"Bearer {reader}"}).status_code == 200
    refused = httpx.get(url, headers={"Authorization": f"Bearer {seller}"})
    assert refused.status_code == 403
    assert "reports:read" in refused.json()["detail"]
    with httpx.Client(base_url=app_url, timeout=15, follow_redirects=False) as cashier:
        log_in(cashier, "cashier", users["cashier"])
        assert cashier.get("/api/v1/reports/today").status_code == 403
        assert cashier.get("/manager/today").status_code == 403
        assert cashier.get("/manager/today/live").status_code == 403
    assert manager_client.get("/api/v1/reports/today").status_code == 200
    page = manager_client.get("/manager/today")
    assert page.status_code == 200
    assert '<link rel="stylesheet" href="/static/css/today.css">' in page.text
    assert 'hx-get="/manager/today/live"' in page.text


def test_acknowledging_needs_csrf_and_an_alert(manager_client: httpx.Client) -> None:
    no_token = manager_client.post("/manager/today/alerts/1/acknowledge")
    assert no_token.status_code == 403
    page = manager_client.get("/manager/today")
    token = page.text.split('"X-CSRF-Token": "', 1)[1].split('"', 1)[0]
    missing = manager_client.post(
        "/manager/today/alerts/999999999/acknowledge", data={"csrf_token": token}
    )
    assert missing.status_code == 404
    assert "no alert 999999999" in missing.text
