"""The back office's catalogue on the real stack: products added through the API and the
family grid, opening stock through the pipeline, barcodes, price changes and history,
retiring, search and paging; bad input changes nothing."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select

from pos_app.catalog.barcodes import ean13_check_digit
from pos_app.db.tables import price_history, products, sales, stock_movements
from tests.stack_support import ChildProcess, log_in, wait_for

pytestmark = pytest.mark.stack


def stock_of(api: httpx.Client, sku: str) -> dict[str, Any] | None:
    return next((s for s in api.get("/api/v1/stock").json() if s["sku"] == sku), None)


def identity_holds(s: dict[str, Any]) -> bool:
    return s["on_hand"] == (
        s["stock_quantity"]
        + s["total_received"]
        - s["total_sold"]
        + s["total_returned"]
        + s["total_adjusted"]
    )


def product_count(mysql: Engine) -> int:
    with mysql.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(products)) or 0)


def test_a_new_product_gets_a_barcode_and_its_opening_stock_through_the_pipeline(
    api: httpx.Client, stream_job: ChildProcess, mysql: Engine
) -> None:
    made = api.post(
        "/api/v1/products",
        json={
            "sku": "bo-vest-blk-m",
            "name": "Back Office Vest Black (M)",
            "name_my": "အင်္ကျီ အနက် (M)",
            "category": "Vest",
            "unit_price": "32000",
            "cost_price": "18000",
            "reorder_point": 2,
            "opening_stock": 7,
        },
    )
    assert made.status_code == 201, made.text
    product = made.json()["product"]
    code = product["barcode"]
    assert product["sku"] == "BO-VEST-BLK-M"
    assert len(code) == 13 and code[0] == "2" and code[-1] == ean13_check_digit(code[:12])
    receipt = made.json()["opening_receipt_id"]
    assert receipt.startswith("OS")

    def opened() -> dict[str, Any] | None:
        stock = stock_of(api, "BO-VEST-BLK-M")
        return stock if stock and stock["on_hand"] == 7 else None

    stock = wait_for(opened, timeout=90, what="the opening stock on hand")
    assert stock is not None
    assert stock["total_received"] == 7 and stock["stock_quantity"] == 0
    assert identity_holds(stock)
    with mysql.connect() as conn:
        moved = conn.execute(
            select(stock_movements.c.kind, stock_movements.c.quantity).where(
                stock_movements.c.document_id == receipt
            )
        ).all()
    assert [tuple(r) for r in moved] == [("received", 7)]
    listed = api.get("/api/v1/products", params={"q": code}).json()
    assert [p["sku"] for p in listed] == ["BO-VEST-BLK-M"]
    assert listed[0]["on_hand"] == 7 and listed[0]["name_my"] == "အင်္ကျီ အနက် (M)"


def test_bad_products_are_refused_and_change_nothing(api: httpx.Client, mysql: Engine) -> None:
    taken = api.get("/api/v1/products", params={"q": "BAG-SHN-GLD"}).json()[0]["barcode"]
    before = product_count(mysql)
    good = {"sku": "BO-BAD-1", "name": "Bad", "category": "Test", "unit_price": "1000"}
    for body, code, words in (
        ({**good, "unit_price": "1000.50"}, 422, "whole number"),
        ({**good, "barcode": "4006381333932"}, 422, "check digit"),
        ({**good, "barcode": taken}, 409, "already belongs to BAG-SHN-GLD"),
        ({**good, "sku": "BAG-SHN-GLD"}, 409, "already in the catalogue"),
        ({**good, "opening_stock": -3}, 422, "opening_stock"),
        ({**good, "colour": "x" * 41}, 422, "colour"),
    ):
        answer = api.post("/api/v1/products", json=body)
        assert answer.status_code == code, (body, answer.text)
        assert words in answer.text
    assert product_count(mysql) == before
    assert api.patch("/api/v1/products/NO-SUCH", json={"unit_price": "5"}).status_code == 404
    bad = api.patch("/api/v1/products/BAG-SHN-GLD", json={"barcode": "4006381333932"})
    assert bad.status_code == 422
    other = api.get("/api/v1/products", params={"q": "BAG-SHN-BLK"}).json()[0]["barcode"]
    clash = api.patch("/api/v1/products/BAG-SHN-GLD", json={"barcode": other})
    assert clash.status_code == 409 and "BAG-SHN-BLK" in clash.text
    assert api.get("/api/v1/products", params={"q": "BAG-SHN-GLD"}).json()[0]["barcode"] == taken


def test_a_price_change_is_charged_at_once_and_history_keeps_the_old_one(
    api: httpx.Client, stream_job: ChildProcess, mysql: Engine
) -> None:
    sku = "BO-SCARF-RED"
    made = api.post(
        "/api/v1/products",
        json={"sku": sku, "name": "Scarf Red", "category": "Test", "unit_price": "9000"},
    )
    assert made.status_code == 201, made.text
    first = api.post("/api/v1/sales", json={"lines": [{"sku": sku, "quantity": 1}]})
    assert first.status_code == 201, first.text
    patched = api.patch(f"/api/v1/products/{sku}", json={"unit_price": "11000"})
    assert patched.status_code == 200, patched.text
    assert Decimal(patched.json()["unit_price"]) == 11000
    second = api.post("/api/v1/sales", json={"lines": [{"sku": sku, "quantity": 2}]})
    assert second.status_code == 201, second.text

    def stored() -> list[tuple[int, Decimal]]:
        with mysql.connect() as conn:
            rows = conn.execute(
                select(sales.c.quantity_sold, sales.c.price_each)
                .where(sales.c.sku == sku)
                .order_by(sales.c.occurred_at)
            ).all()
        return [(r[0], r[1]) for r in rows] if len(rows) == 2 else []

    assert wait_for(stored, timeout=90, what="both sales") == [
        (1, Decimal("9000.00")),
        (2, Decimal("11000.00")),
    ]
    with mysql.connect() as conn:
        history = conn.execute(
            select(price_history.c.old_price, price_history.c.new_price)
            .where(price_history.c.sku == sku)
            .order_by(price_history.c.id)
        ).all()
    assert [tuple(r) for r in history] == [(None, Decimal(9000)), (Decimal(9000), Decimal(11000))]
    audit = api.get("/api/v1/audit").json()
    change = next(e for e in audit if e["action"] == "product.price_changed")
    assert change["target"] == f"product:{sku}"
    assert change["details"] == {"old": "9000.00", "new": "11000"}


def test_retiring_hides_a_product_from_the_counter_and_the_list(
    api: httpx.Client, app_url: str, users: dict[str, str]
) -> None:
    sku = "BO-CAP-OLD"
    assert (
        api.post(
            "/api/v1/products",
            json={"sku": sku, "name": "Old Cap", "category": "Test", "unit_price": "3000"},
        ).status_code
        == 201
    )
    barcode = api.get("/api/v1/products", params={"q": sku}).json()[0]["barcode"]
    assert api.patch(f"/api/v1/products/{sku}", json={"active": False}).status_code == 200
    assert api.get("/api/v1/products", params={"q": sku}).json() == []
    retired = api.get("/api/v1/products", params={"q": sku, "active": "false"}).json()
    assert [p["sku"] for p in retired] == [sku]
    with httpx.Client(base_url=app_url, timeout=15) as cashier:
        token = log_in(cashier, "cashier", users["cashier"])
        assert sku not in cashier.get("/").text
        scanned = cashier.post("/counter/scan", data={"code": barcode, "csrf_token": token})
        assert "unknown barcode" in scanned.text


def test_the_list_pages_and_filters(api: httpx.Client) -> None:
    every = api.get("/api/v1/products", params={"active": "all"})
    total = int(every.headers["X-Total-Count"])
    assert total == len(every.json()) > 10
    first = api.get("/api/v1/products", params={"active": "all", "limit": 5})
    second = api.get("/api/v1/products", params={"active": "all", "limit": 5, "offset": 5})
    assert int(first.headers["X-Total-Count"]) == total
    page_skus = [p["sku"] for p in first.json() + second.json()]
    assert page_skus == [p["sku"] for p in every.json()[:10]]
    longyi = api.get("/api/v1/products", params={"category": "Longyi"}).json()
    assert longyi and {p["category"] for p in longyi} == {"Longyi"}
    assert api.get("/api/v1/products", params={"limit": 0}).status_code == 422


def test_a_cashier_key_cannot_change_the_catalogue(api: httpx.Client, app_url: str) -> None:
    key = api.post("/api/v1/api-keys", json={"name": "till", "scopes": ["catalog:read"]}).json()
    with httpx.Client(base_url=app_url, headers={"X-API-Key": key["key"]}) as till:
        refused = till.patch("/api/v1/products/BAG-SHN-GLD", json={"unit_price": "1"})
        assert refused.status_code == 403 and "catalog:write" in refused.text
    stock_key = api.post(
        "/api/v1/api-keys", json={"name": "stock", "scopes": ["inventory:write"]}
    ).json()
    with httpx.Client(base_url=app_url, headers={"X-API-Key": stock_key["key"]}) as stock:
        assert stock.patch("/api/v1/products/BAG-SHN-GLD", json={"reorder_point": 4}).is_success
        price = stock.patch("/api/v1/products/BAG-SHN-GLD", json={"unit_price": "1"})
        assert price.status_code == 403


def test_a_family_from_the_grid_page(
    app_url: str, users: dict[str, str], api: httpx.Client, stream_job: ChildProcess
) -> None:
    with httpx.Client(base_url=app_url, timeout=15, follow_redirects=False) as manager:
        token = log_in(manager, "manager", users["manager"])
        form = {
            "csrf_token": token,
            "sku_prefix": "BOJ",
            "style": "Grid Jacket",
            "style_my": "တိုက်ပုံ",
            "category": "Jacket",
            "unit_price": "70000",
            "cost_price": "41000",
            "reorder_point": "1",
            "sizes": "M, L",
            "colours": "White:အဖြူ, Black:အနက်",
            "open_0_0": "2",
            "open_0_1": "3",
            "open_1_0": "0",
            "open_1_1": "4",
        }
        grid = manager.get("/manager/products/family", params=form)
        assert grid.status_code == 200 and grid.text.count('name="open_') == 4
        bad = manager.post("/manager/products/family", data={**form, "unit_price": "7O000"})
        assert bad.status_code == 422 and "unit_price" in bad.text
        assert api.get("/api/v1/products", params={"q": "BOJ-"}).json() == []
        made = manager.post("/manager/products/family", data=form)
        assert made.status_code == 303, made.text[:500]
        listing = manager.get(made.headers["location"])
        assert re.findall(r'data-sku="([^"]+)"', listing.text) == [
            "BOJ-BLA-L",
            "BOJ-BLA-M",
            "BOJ-WHI-L",
            "BOJ-WHI-M",
        ]
    family = {p["sku"]: p for p in api.get("/api/v1/products", params={"q": "BOJ-"}).json()}
    assert family["BOJ-WHI-M"]["name_my"] == "တိုက်ပုံ အဖြူ (M)"
    assert len({p["barcode"] for p in family.values()}) == 4
    expected = {"BOJ-WHI-M": 2, "BOJ-WHI-L": 3, "BOJ-BLA-M": 0, "BOJ-BLA-L": 4}

    def arrived() -> bool:
        on_hand = {s["sku"]: s["on_hand"] for s in api.get("/api/v1/stock").json()}
        return all(on_hand.get(sku) == n for sku, n in expected.items())

    wait_for(arrived, timeout=90, what="the family's opening stock")
