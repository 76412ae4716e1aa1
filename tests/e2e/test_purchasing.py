"""Suppliers and purchase orders on the real stack: an order drafted from the refill
plan, ordered, received in two parts through the pipeline (stock = before + received,
exactly); over-receipt warns and changes nothing; the plan counts what is on order and
lists the expected arrival."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select

from pos_app.db.tables import stock_movements
from pos_app.settings import Settings
from tests.factories import encode, sale_event
from tests.stack_support import ChildProcess, log_in, wait_for

pytestmark = pytest.mark.stack
SKU = "BO-PO-SHIRT"  # made here, used by no other test


def plan_rows(api: httpx.Client) -> list[dict[str, Any]]:
    answer = api.get("/api/v1/reports/refill-plan", params={"months": 3, "refresh": True})
    assert answer.status_code == 200, answer.text
    return [r for r in answer.json()["rows"] if r["sku"] == SKU]


def on_hand(api: httpx.Client) -> int:
    return int(next(s for s in api.get("/api/v1/stock").json() if s["sku"] == SKU)["on_hand"])


def on_order_cell(page: str) -> str | None:
    cell = rf'<tr data-sku="{SKU}"><td><code>{SKU}</code></td><td class="num">(\d+)<'
    found = re.search(cell, page)
    return found.group(1) if found else None


def status_of(page: str) -> str:
    found = re.search(r'id="order-status">([^<]*)<', page)
    assert found is not None, page[:1500]
    return found.group(1)


def test_an_order_from_the_plan_received_in_two_parts(
    app_url: str,
    users: dict[str, str],
    api: httpx.Client,
    mysql: Engine,
    settings: Settings,
    stream_job: ChildProcess,
    publish: Any,
    mongo: Any,
) -> None:
    made = api.post(
        "/api/v1/products",
        json={
            "sku": SKU,
            "name": "PO Shirt",
            "category": "Shirt",
            "unit_price": "20000",
            "cost_price": "11000",
            "opening_stock": 4,
        },
    )
    assert made.status_code == 201, made.text
    # A year-old month of sales, so the plan forecasts this product and suggests an order.
    today = settings.today()
    year, month = (today.year, today.month + 1) if today.month < 12 else (today.year + 1, 1)
    when = f"{year - 1}-{month:02d}-10T11:00:00+06:30"
    history = sale_event([(SKU, 30, "20000")], occurred_at=when)
    publish([encode(history)])
    wait_for(lambda: on_hand(api) == 4 - 30, timeout=90, what="the opening stock and the history")
    suggested = plan_rows(api)[0]["suggested_order"]
    assert suggested > 0

    with httpx.Client(base_url=app_url, timeout=30, follow_redirects=False) as manager:
        token = log_in(manager, "manager", users["manager"])
        refused = manager.post("/manager/suppliers", data={"csrf_token": token, "name": ""})
        assert refused.status_code == 422
        added = manager.post(
            "/manager/suppliers",
            data={
                "csrf_token": token,
                "name": "Mandalay Shirts",
                "phone": "09 420 000 111",
                "viber": "09 420 000 111",
                "lead_time_days": "10",
                "notes": "cash on delivery",
            },
        )
        assert added.status_code == 303, added.text[:500]
        listing = manager.get("/manager/suppliers").text
        supplier_id = re.search(r'data-supplier="(\d+)"><td>Mandalay Shirts<', listing)
        assert supplier_id is not None

        drafted = manager.post(
            "/manager/purchase-orders",
            data={"csrf_token": token, "source": "plan", "supplier_id": supplier_id.group(1)},
        )
        assert drafted.status_code == 303, drafted.text[:800]
        order_url = drafted.headers["location"]
        draft = manager.get(order_url).text
        assert status_of(draft) == "draft"
        lines = dict(re.findall(r'data-sku="([^"]+)" data-line="(\d+)"', draft))
        ours = lines[SKU]
        assert f'name="qty_{ours}" value="{suggested}"' in draft
        assert f'name="cost_{ours}" value="11000"' in draft  # the product's cost price
        # Keep our line, 12 units; drop the rest.
        form = {f"qty_{n}": "0" for n in lines.values()} | {f"qty_{ours}": "12"}
        form |= {f"cost_{n}": "0" for n in lines.values()} | {f"cost_{ours}": "11000"}
        saved = manager.post(f"{order_url}/lines", data={"csrf_token": token, **form})
        assert saved.status_code == 200, saved.text[:800]
        assert re.findall(r'data-sku="([^"]+)" data-line', saved.text) == [SKU]
        assert "132,000 Ks" in saved.text  # 12 x 11,000

        ordered = manager.post(f"{order_url}/order", data={"csrf_token": token})
        assert status_of(ordered.text) == "ordered"
        plan_page = manager.get("/manager/refill-plan").text
        po_id = order_url.rsplit("/", 1)[1]
        assert f'data-po="{po_id}"' in plan_page
        assert on_order_cell(plan_page) == "12"
        assert plan_rows(api)[0]["expected_start_stock"] == 12  # on order counts as stock

        first = manager.post(
            f"{order_url}/receive", data={"csrf_token": token, f"receive_{ours}": "5"}
        )
        assert status_of(first.text) == "partly received", first.text[:800]
        receipt_1 = re.search(r"Receipt (GR[0-9A-F-]+) recorded", first.text)
        assert receipt_1 is not None
        over = manager.post(
            f"{order_url}/receive", data={"csrf_token": token, f"receive_{ours}": "10"}
        )
        assert over.status_code == 422 and "only 7 still to come" in over.text
        assert status_of(manager.get(order_url).text) == "partly received"
        plan_page = manager.get("/manager/refill-plan").text
        assert on_order_cell(plan_page) == "7"
        second = manager.post(
            f"{order_url}/receive", data={"csrf_token": token, f"receive_{ours}": "7"}
        )
        assert status_of(second.text) == "received"
        receipt_2 = re.search(r"Receipt (GR[0-9A-F-]+) recorded", second.text)
        assert receipt_2 is not None
        cancel = manager.post(f"{order_url}/cancel", data={"csrf_token": token})
        assert cancel.status_code == 422  # a received order stays received

    wait_for(lambda: on_hand(api) == 4 - 30 + 12, timeout=60, what="both receipts on hand")
    with mysql.connect() as conn:
        moved = conn.execute(
            select(
                stock_movements.c.document_id, stock_movements.c.quantity, stock_movements.c.reason
            )
            .where(stock_movements.c.sku == SKU, stock_movements.c.kind == "received")
            .order_by(stock_movements.c.occurred_at)
        ).all()
    assert [(r[0], r[1], r[2]) for r in moved][1:] == [
        (receipt_1.group(1), 5, "Mandalay Shirts"),
        (receipt_2.group(1), 7, "Mandalay Shirts"),
    ]
    # The receipt events name the order and carry its cost per unit (raw copy, as sent).
    raw = mongo["raw_events"].find_one({"event.receipt_id": receipt_1.group(1)})
    assert raw is not None and raw["event"]["purchase_order_id"] == po_id
    assert [(li["sku"], li["quantity"], li["unit_cost"]) for li in raw["event"]["lines"]] == [
        (SKU, 5, "11000.00")
    ]
    assert plan_rows(api)[0]["expected_start_stock"] == 0  # nothing on order, none on hand
    audit = api.get("/api/v1/audit").json()
    received = [e for e in audit if e["action"] == "purchase_order.received"]
    assert json.dumps(received[0]["details"]).count(SKU) == 1
