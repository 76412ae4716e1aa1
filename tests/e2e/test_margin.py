"""Gross margin on the real stack: a sale keeps the cost price of the day it was sold
(a later cost change does not touch it), a product without a cost has an unknown
margin (not 100 %), and reports name a product as the catalogue does now."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import Engine, select

from pos_app.db.tables import product_monthly_sales, sales
from pos_app.settings import Settings
from tests.stack_support import ChildProcess, wait_for

pytestmark = pytest.mark.stack
RUN = uuid.uuid4().hex[:4].upper()
COSTED = f"MRG-VST-{RUN}"
UNCOSTED = f"MRG-CAP-{RUN}"


def make(api: httpx.Client, sku: str, name: str, price: str, cost: str | None) -> None:
    body: dict[str, Any] = {
        "sku": sku,
        "name": name,
        "category": "Vest",
        "unit_price": price,
        "opening_stock": 10,
    }
    if cost is not None:
        body["cost_price"] = cost
    made = api.post("/api/v1/products", json=body)
    assert made.status_code == 201, made.text


def sell(api: httpx.Client, *lines: tuple[str, int]) -> str:
    sold = api.post(
        "/api/v1/sales",
        json={"lines": [{"sku": sku, "quantity": qty} for sku, qty in lines]},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert sold.status_code == 201, sold.text
    return str(sold.json()["sale_id"])


def top_row(api: httpx.Client, sku: str, year: int, month: int) -> dict[str, Any] | None:
    top = api.get(
        "/api/v1/reports/top-products", params={"year": year, "month": month, "limit": 100}
    ).json()
    return next((p for p in top["products"] if p["sku"] == sku), None)


def test_margin_keeps_the_cost_of_the_day_and_is_unknown_without_a_cost(
    api: httpx.Client, settings: Settings, stream_job: ChildProcess, mysql: Engine
) -> None:
    make(api, COSTED, "Margin Vest", "45000", "30000")
    make(api, UNCOSTED, "Margin Cap", "12000", None)
    first = sell(api, (COSTED, 2), (UNCOSTED, 1))
    # The cost and the name change after the first sale; the second sale is at the new cost.
    changed = api.patch(
        f"/api/v1/products/{COSTED}", json={"cost_price": "40000", "name": "Margin Vest Renamed"}
    )
    assert changed.status_code == 200, changed.text
    second = sell(api, (COSTED, 1))
    now = datetime.now(ZoneInfo(settings.shop_timezone))

    def applied() -> dict[str, Any] | None:
        row = top_row(api, COSTED, now.year, now.month)
        return row if row and row["units"] == 3 else None

    row = wait_for(applied, timeout=90, what="both sales in the top products")
    assert Decimal(row["revenue"]) == Decimal(3 * 45000)
    assert Decimal(row["cost"]) == Decimal(2 * 30000 + 40000)  # each sale at its day's cost
    assert Decimal(row["margin"]) == Decimal(3 * 45000 - 2 * 30000 - 40000)
    assert row["product"] == "Margin Vest Renamed"  # the catalogue's name now
    cap = top_row(api, UNCOSTED, now.year, now.month)
    assert cap is not None and Decimal(cap["revenue"]) == Decimal(12000)
    assert cap["margin"] is None  # no cost price: unknown, not 12,000
    assert Decimal(cap["revenue_without_cost"]) == Decimal(12000)

    with mysql.connect() as conn:
        costs = dict(
            (f"{r.sale_id}:{r.sku}", r.unit_cost)
            for r in conn.execute(
                select(sales.c.sale_id, sales.c.sku, sales.c.unit_cost).where(
                    sales.c.sale_id.in_([first, second])
                )
            )
        )
        kept_name = conn.scalar(
            select(product_monthly_sales.c.product).where(product_monthly_sales.c.sku == COSTED)
        )
    assert costs == {
        f"{first}:{COSTED}": Decimal("30000.00"),
        f"{first}:{UNCOSTED}": None,
        f"{second}:{COSTED}": Decimal("40000.00"),
    }
    assert kept_name in ("Margin Vest", "Margin Vest Renamed")  # the table keeps a sold name

    dashboard = api.get(
        "/api/v1/reports/dashboard", params={"year": now.year, "month": now.month}
    ).json()
    mine = {p["sku"]: p for p in dashboard["products"]}
    if COSTED in mine:  # the dashboard lists the best ten: ours may be among them
        assert Decimal(mine[COSTED]["margin"]) == Decimal(35000)
    period = dashboard["period"]
    assert Decimal(period["revenue"]) - Decimal(period["revenue_without_cost"]) == Decimal(
        period["costed_revenue"]
    )
    assert Decimal(period["margin"]) == Decimal(period["costed_revenue"]) - Decimal(period["cost"])
