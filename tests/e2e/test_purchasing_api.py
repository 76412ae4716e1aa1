"""Suppliers, purchase orders and the catalogue import through the REST API, on the real
stack: what the manager's pages do, with clear refusals that change nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select

from pos_app.db.tables import products
from pos_app.settings import Settings
from tests.stack_support import ChildProcess, wait_for

pytestmark = pytest.mark.stack
RUN = uuid.uuid4().hex[:4].upper()
SKU = f"PAPI-SHT-{RUN}"


def on_hand(api: httpx.Client, sku: str) -> int | None:
    return next((s["on_hand"] for s in api.get("/api/v1/stock").json() if s["sku"] == sku), None)


def test_suppliers_are_added_changed_and_listed(api: httpx.Client) -> None:
    name = f"Mandalay Looms {RUN}"
    made = api.post(
        "/api/v1/suppliers", json={"name": name, "phone": "09 123", "lead_time_days": 5}
    )
    assert made.status_code == 201, made.text
    supplier = made.json()
    assert (supplier["name"], supplier["lead_time_days"], supplier["viber"]) == (name, 5, None)
    again = api.post("/api/v1/suppliers", json={"name": name})
    assert again.status_code == 409 and "already exists" in again.json()["detail"]
    changed = api.patch(f"/api/v1/suppliers/{supplier['id']}", json={"viber": "09 456"})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["viber"], changed.json()["phone"]) == ("09 456", "09 123")
    assert api.patch("/api/v1/suppliers/999999", json={"notes": "x"}).status_code == 404
    assert api.post("/api/v1/suppliers", json={"name": ""}).status_code == 422
    listed = {s["name"]: s for s in api.get("/api/v1/suppliers").json()}
    assert listed[name]["viber"] == "09 456"


def test_an_order_made_ordered_received_in_two_parts_and_not_cancelled_after(
    api: httpx.Client, settings: Settings, stream_job: ChildProcess, mongo: Any
) -> None:
    made = api.post(
        "/api/v1/products",
        json={
            "sku": SKU,
            "name": "API PO Shirt",
            "category": "Shirt",
            "unit_price": "25000",
            "cost_price": "11000",
            "opening_stock": 2,
        },
    )
    assert made.status_code == 201, made.text
    supplier = api.post(
        "/api/v1/suppliers", json={"name": f"Yangon Shirts {RUN}", "lead_time_days": 4}
    )
    supplier_id = supplier.json()["id"]

    both = api.post(
        "/api/v1/purchase-orders",
        json={
            "supplier_id": supplier_id,
            "from_plan": True,
            "lines": [{"sku": SKU, "quantity": 1}],
        },
    )
    assert both.status_code == 422
    unknown = api.post(
        "/api/v1/purchase-orders",
        json={"supplier_id": supplier_id, "lines": [{"sku": "NO-SUCH-SKU", "quantity": 1}]},
    )
    assert unknown.status_code == 422 and "unknown SKU NO-SUCH-SKU" in unknown.json()["detail"]
    nobody = api.post(
        "/api/v1/purchase-orders",
        json={"supplier_id": 999999, "lines": [{"sku": SKU, "quantity": 1}]},
    )
    assert nobody.status_code == 404

    drafted = api.post(
        "/api/v1/purchase-orders",
        json={
            "supplier_id": supplier_id,
            "lines": [{"sku": SKU, "quantity": 10, "unit_cost": "10500"}],
        },
    )
    assert drafted.status_code == 201, drafted.text
    order = drafted.json()
    po_id = order["po_id"]
    assert order["status"] == "draft"
    assert [(li["sku"], li["quantity"], Decimal(li["unit_cost"])) for li in order["lines"]] == [
        (SKU, 10, Decimal(10500))
    ]
    assert Decimal(order["total_cost"]) == Decimal(105000)
    early = api.post(
        f"/api/v1/purchase-orders/{po_id}/receive", json={"lines": [{"line_no": 1, "quantity": 1}]}
    )
    assert early.status_code == 409  # a draft is not received

    ordered = api.post(f"/api/v1/purchase-orders/{po_id}/order")
    assert ordered.status_code == 200, ordered.text
    assert ordered.json()["status"] == "ordered"
    assert ordered.json()["expected_on"] == (settings.today() + timedelta(days=4)).isoformat()
    assert api.post(f"/api/v1/purchase-orders/{po_id}/order").status_code == 409

    first = api.post(
        f"/api/v1/purchase-orders/{po_id}/receive", json={"lines": [{"line_no": 1, "quantity": 3}]}
    )
    assert first.status_code == 200, first.text
    receipt = first.json()["receipt"]
    assert receipt["purchase_order_id"] == po_id
    assert [(li["sku"], li["quantity"], li["unit_cost"]) for li in receipt["lines"]] == [
        (SKU, 3, "10500.00")
    ]
    assert first.json()["order"]["status"] == "partly_received"
    over = api.post(
        f"/api/v1/purchase-orders/{po_id}/receive", json={"lines": [{"line_no": 1, "quantity": 8}]}
    )
    assert over.status_code == 422 and "only 7 still to come" in over.json()["detail"]
    rest = api.post(
        f"/api/v1/purchase-orders/{po_id}/receive", json={"lines": [{"line_no": 1, "quantity": 7}]}
    )
    assert rest.status_code == 200 and rest.json()["order"]["status"] == "received"
    assert api.post(f"/api/v1/purchase-orders/{po_id}/cancel").status_code == 409
    assert api.get("/api/v1/purchase-orders/PO-NOPE").status_code == 404
    listed = {o["po_id"]: o for o in api.get("/api/v1/purchase-orders").json()}
    assert (listed[po_id]["units"], listed[po_id]["outstanding"]) == (10, 0)

    wait_for(lambda: on_hand(api, SKU) == 2 + 10, timeout=90, what="opening + both receipts")
    raw = mongo["raw_events"].find_one({"event.receipt_id": rest.json()["receipt"]["receipt_id"]})
    assert raw is not None and raw["event"]["purchase_order_id"] == po_id

    spare = api.post(
        "/api/v1/purchase-orders",
        json={"supplier_id": supplier_id, "lines": [{"sku": SKU, "quantity": 1}]},
    ).json()
    assert Decimal(spare["lines"][0]["unit_cost"]) == Decimal(11000)  # the cost price
    cancelled = api.post(f"/api/v1/purchase-orders/{spare['po_id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"


def test_a_catalogue_import_is_previewed_then_confirmed_once(
    api: httpx.Client, mysql: Engine
) -> None:
    new_sku = f"PAPI-IMP-{RUN}"
    data = (
        "sku,name,category,unit_price\n"
        f"{new_sku},API Import Longyi,Longyi,21000\n"
        f"PAPI-BAD-{RUN},Bad price,Longyi,abc\n"
    ).encode()

    def count() -> int:
        with mysql.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(products)) or 0)

    before = count()
    bad_file = api.post(
        "/api/v1/catalog/imports", files={"file": ("notes.pdf", b"%PDF", "application/pdf")}
    )
    assert bad_file.status_code == 422 and "not a .csv or .xlsx" in bad_file.json()["detail"]
    previewed = api.post(
        "/api/v1/catalog/imports", files={"file": ("catalogue.csv", data, "text/csv")}
    )
    assert previewed.status_code == 201, previewed.text
    preview = previewed.json()
    assert [(a["line"], a["product"]["sku"]) for a in preview["adds"]] == [(2, new_sku)]
    assert [b["line"] for b in preview["bad"]] == [3]
    assert "unit_price" in preview["bad"][0]["reason"]
    assert count() == before  # nothing before the confirm

    applied = api.post(f"/api/v1/catalog/imports/{preview['draft_id']}/confirm")
    assert applied.status_code == 200, applied.text
    assert [a["product"]["sku"] for a in applied.json()["adds"]] == [new_sku]
    assert count() == before + 1
    again = api.post(f"/api/v1/catalog/imports/{preview['draft_id']}/confirm")
    assert again.status_code == 404
    assert count() == before + 1
