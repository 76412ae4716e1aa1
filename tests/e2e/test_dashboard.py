"""The manager's sales dashboard: period filters, months beside last year, charts."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from pos_app.settings import Settings
from tests.stack_support import ChildProcess, log_in, wait_for

pytestmark = pytest.mark.stack


def test_the_dashboard_adds_up_to_the_reports(
    api: httpx.Client, stream_job: ChildProcess, settings: Settings
) -> None:
    sale = api.post("/api/v1/sales", json={"lines": [{"sku": "LGY-YAW-MRN", "quantity": 1}]})
    assert sale.status_code == 201
    today = settings.today()

    def with_sale() -> dict[str, object] | None:
        data = api.get(
            "/api/v1/reports/dashboard",
            params={"year": today.year, "month": today.month, "day": today.day},
        )
        assert data.status_code == 200, data.text
        body = data.json()
        return body if Decimal(body["period"]["revenue"]) > 0 else None

    day = wait_for(with_sale, timeout=15, what="today's sales on the dashboard")
    year = api.get("/api/v1/reports/dashboard", params={"year": today.year}).json()
    summary = api.get("/api/v1/reports/summary").json()
    by_month = {(m["year"], m["month"]): Decimal(m["revenue"]) for m in summary["by_month"]}
    months = {m["month"]: Decimal(m["revenue"]) for m in year["months"]}
    assert months[today.month] == by_month[(today.year, today.month)]
    assert Decimal(year["period"]["revenue"]) == sum(months.values())
    assert Decimal(day["period"]["revenue"]) <= months[today.month]
    assert len(year["months"]) == 12
    assert year["products"] and year["stock_against_sold"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"year": 2026, "day": 3}, "a day needs a month"),
        ({"year": 2026, "month": 2, "day": 30}, "day is out of range"),
        ({"month": 13}, "less than or equal to 12"),
    ],
)
def test_impossible_periods_are_refused(
    api: httpx.Client, params: dict[str, int], message: str
) -> None:
    response = api.get("/api/v1/reports/dashboard", params=params)
    assert response.status_code == 422
    assert message in response.text


def test_the_manager_sees_charts(app_url: str, users: dict[str, str]) -> None:
    with httpx.Client(base_url=app_url, timeout=15) as client:
        log_in(client, "manager", users["manager"])
        page = client.get("/manager/dashboard")
    assert page.status_code == 200
    assert page.text.count("<svg") == 3
    assert "Sales by month" in page.text and 'id="period-totals"' in page.text
    assert "<rect" in page.text
