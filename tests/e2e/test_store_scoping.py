"""Store scoping: people and API keys belong to stores, and nothing of another store is
theirs to read or write. Store B's sale, cart, shift, purchase order and alert are put
in the test shop's database as the pipeline and the app would have stored them; a
cashier, manager or key of this install's store (A) gets 404 for each."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, insert, select

from pos_app.auth.cli import create_api_key_sync
from pos_app.auth.roles import ALL_SCOPES
from pos_app.db.tables import (
    carts,
    purchase_orders,
    sale_documents,
    sales_daily,
    stock_alerts,
    suppliers,
)
from pos_app.settings import Settings
from pos_app.till.tables import shifts
from tests.factories import sale_event
from tests.stack_support import log_in

pytestmark = pytest.mark.stack

OTHER = "store-b"
SKU = "BAG-SHN-GLD"


@pytest.fixture(scope="module")
def store_b(mysql: Engine) -> dict[str, Any]:
    """One of each thing store B has, with its id."""
    tag = uuid.uuid4().hex[:8]
    event = sale_event([(SKU, 2, "15000")], sale_id=f"B-{tag}", store_id=OTHER)
    now = datetime.now(UTC).replace(tzinfo=None)
    with mysql.begin() as conn:
        conn.execute(
            insert(sale_documents).values(
                event_type="sale.completed",
                document_id=event["sale_id"],
                sale_id=event["sale_id"],
                event_id=event["event_id"],
                store_id=OTHER,
                local_date=now.date(),
                occurred_at=now,
                document=json.dumps(event, sort_keys=True, separators=(",", ":")),
            )
        )
        cart_id = conn.execute(
            insert(carts).values(
                store_id=OTHER,
                cashier="b-cashier",
                status="held",
                lines=json.dumps([{"sku": SKU, "quantity": 1}]),
            )
        ).lastrowid
        shift_id = conn.execute(
            insert(shifts).values(
                store_id=OTHER,
                register_id=f"b-{tag}",
                cashier="cashier",  # even with the same name: another store's shift
                opened_at=now,
                opening_float=0,
            )
        ).lastrowid
        supplier_id = conn.execute(insert(suppliers).values(name=f"B supplier {tag}")).lastrowid
        po_id = f"PO-B-{tag}"
        conn.execute(
            insert(purchase_orders).values(
                po_id=po_id,
                supplier_id=supplier_id,
                store_id=OTHER,
                status="draft",
                created_by="user:b-manager",
            )
        )
        alert_id = conn.execute(
            insert(stock_alerts).values(
                store_id=OTHER, sku=SKU, on_hand=1, reorder_point=5, event_id=str(uuid.uuid4())
            )
        ).lastrowid
    return {
        "sale": event["sale_id"],
        "cart": cart_id,
        "shift": shift_id,
        "po": po_id,
        "alert": alert_id,
    }


def _signed_in(app_url: str, username: str, password: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=app_url, timeout=15, follow_redirects=False)
    return client, log_in(client, username, password)


@pytest.fixture(scope="module")
def cashier(app_url: str, users: dict[str, str]) -> Iterator[tuple[httpx.Client, str]]:
    client, token = _signed_in(app_url, "cashier", users["cashier"])
    yield client, token
    client.close()


@pytest.fixture(scope="module")
def manager(app_url: str, users: dict[str, str]) -> Iterator[tuple[httpx.Client, str]]:
    client, token = _signed_in(app_url, "manager", users["manager"])
    yield client, token
    client.close()


def _key(app_url: str, settings: Settings, stores: list[str]) -> httpx.Client:
    key = create_api_key_sync(
        settings, name=f"stores {' '.join(stores)}", scopes=sorted(ALL_SCOPES), stores=stores
    )
    return httpx.Client(base_url=app_url, timeout=15, headers={"X-API-Key": key})


def test_a_sale_of_another_store_is_404_to_read_and_to_return(
    app_url: str,
    settings: Settings,
    store_b: dict[str, Any],
    cashier: tuple[httpx.Client, str],
    manager: tuple[httpx.Client, str],
) -> None:
    sale = store_b["sale"]
    assert cashier[0].get(f"/api/v1/sales/{sale}").status_code == 404
    assert cashier[0].get(f"/counter/receipts/{sale}").status_code == 404
    client, token = manager  # refunds are a manager's (returns:write, no PIN asked)
    assert client.get(f"/api/v1/sales/{sale}").status_code == 404
    taken = client.post(
        f"/api/v1/sales/{sale}/returns",
        json={"reason": "not ours", "lines": [{"line_no": 1, "quantity": 1}]},
        headers={"X-CSRF-Token": token},
    )
    assert taken.status_code == 404, taken.text
    swapped = client.post(
        f"/api/v1/sales/{sale}/exchanges",
        json={
            "take_back": {"reason": "not ours", "lines": [{"line_no": 1, "quantity": 1}]},
            "lines": [{"sku": "TKP-BLK-M", "quantity": 1}],
        },
        headers={"X-CSRF-Token": token},
    )
    assert swapped.status_code == 404, swapped.text
    assert client.get("/counter/returns", params={"sale_id": sale}).status_code == 404
    form = {"sale_id": sale, "reason": "not ours", "qty_1": "1", "csrf_token": token}
    refused = client.post("/counter/returns", data=form)
    assert refused.status_code == 422 and f"no sale {sale}" in refused.text
    with _key(app_url, settings, [settings.store_id]) as key_of_a:
        assert key_of_a.get(f"/api/v1/sales/{sale}").status_code == 404
    # A key of both stores sees it: the 404 above is the scoping, not a missing sale.
    with _key(app_url, settings, [settings.store_id, OTHER]) as key_of_both:
        found = key_of_both.get(f"/api/v1/sales/{sale}")
        assert found.status_code == 200, found.text
        assert found.json()["store_id"] == OTHER


def test_a_cart_shift_order_and_alert_of_another_store_are_not_found(
    mysql: Engine,
    store_b: dict[str, Any],
    cashier: tuple[httpx.Client, str],
    manager: tuple[httpx.Client, str],
) -> None:
    client, token = cashier
    resumed = client.post(
        "/counter/cart/resume", data={"cart_id": str(store_b["cart"]), "csrf_token": token}
    )
    assert "on hold" in resumed.text  # "no cart N on hold"
    with mysql.connect() as conn:
        status = conn.scalar(select(carts.c.status).where(carts.c.id == store_b["cart"]))
    assert status == "held"
    assert client.get(f"/counter/shifts/{store_b['shift']}/report").status_code == 404

    boss, boss_token = manager
    assert boss.get(f"/manager/purchase-orders/{store_b['po']}").status_code == 404
    cancelled = boss.post(
        f"/manager/purchase-orders/{store_b['po']}/cancel", data={"csrf_token": boss_token}
    )
    assert cancelled.status_code == 404
    with mysql.connect() as conn:
        po_status = conn.scalar(
            select(purchase_orders.c.status).where(purchase_orders.c.po_id == store_b["po"])
        )
    assert po_status == "draft"
    acknowledged = boss.post(
        f"/api/v1/alerts/{store_b['alert']}/acknowledge", headers={"X-CSRF-Token": boss_token}
    )
    assert acknowledged.status_code == 404
    page_ack = boss.post(
        f"/manager/today/alerts/{store_b['alert']}/acknowledge", data={"csrf_token": boss_token}
    )
    assert page_ack.status_code == 404
    alerts = boss.get("/api/v1/alerts").json()
    assert store_b["alert"] not in [a["alert_id"] for a in alerts]


@pytest.mark.parametrize(
    ("path", "store_param"),
    [
        ("/api/v1/stock", "store_id"),
        ("/api/v1/stock/low", "store_id"),
        ("/api/v1/stock/low.csv", "store_id"),
        ("/api/v1/products", "store"),
        ("/api/v1/alerts", "store_id"),
        ("/api/v1/reports/summary", "store_id"),
        ("/api/v1/reports/dashboard", "store_id"),
        ("/api/v1/reports/sales", "store"),
        ("/api/v1/reports/top-products", "store"),
        ("/api/v1/reports/payments", "store"),
        ("/api/v1/reports/tax", "store"),
        ("/api/v1/reports/refill-plan", "store"),
    ],
)
def test_naming_another_store_is_404(
    manager: tuple[httpx.Client, str], store_b: dict[str, Any], path: str, store_param: str
) -> None:
    client, _ = manager
    response = client.get(path, params={store_param: OTHER})
    assert response.status_code == 404, response.text[:300]


def test_all_stores_in_a_report_means_the_callers_stores(
    app_url: str, settings: Settings, mysql: Engine, store_b: dict[str, Any]
) -> None:
    """Store B's sales are in the books (the pipeline's daily totals); a key of store A
    adds up only store A's, a key of both adds B's too."""
    day = datetime(2020, 2, 29).date()
    with mysql.begin() as conn:
        conn.execute(
            insert(sales_daily).values(
                sale_date=day,
                store_id=OTHER,
                revenue=123456,
                units=7,
                sales_count=1,
                lines_count=1,
            )
        )
    params = {"granularity": "day", "from": day.isoformat(), "to": day.isoformat()}
    with _key(app_url, settings, [settings.store_id]) as key_of_a:
        assert key_of_a.get("/api/v1/reports/sales", params=params).json()["periods"] == []
    with _key(app_url, settings, [settings.store_id, OTHER]) as key_of_both:
        periods = key_of_both.get("/api/v1/reports/sales", params=params).json()["periods"]
        assert [Decimal(p["revenue"]) for p in periods] == [Decimal(123456)]


def test_a_person_of_another_store_only_cannot_create_keys_for_this_one(
    app_url: str, settings: Settings
) -> None:
    with _key(app_url, settings, [settings.store_id]) as admin_key:
        refused = admin_key.post(
            "/api/v1/api-keys", json={"name": "b", "scopes": ["stock:read"], "stores": [OTHER]}
        )
        assert refused.status_code == 422
        assert "cannot grant a store" in refused.json()["detail"]
        made = admin_key.post("/api/v1/api-keys", json={"name": "a", "scopes": ["stock:read"]})
        assert made.status_code == 201
        assert made.json()["api_key"]["stores"] == [settings.store_id]


def test_posctl_binds_a_new_user_to_the_stores_given(
    app_url: str, settings: Settings, store_b: dict[str, Any]
) -> None:
    username, password = f"b-only-{uuid.uuid4().hex[:6]}", f"pw-{uuid.uuid4().hex}"
    made = subprocess.run(
        [
            *(sys.executable, "-m", "pos_app.cli", "user", "create", username),
            *("--role", "manager", "--store", OTHER, "--store", settings.store_id),
            "--password-stdin",
        ],
        input=password + "\n",
        env={**os.environ, **settings.as_env()},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    client, _ = _signed_in(app_url, username, password)
    try:
        found = client.get(f"/api/v1/sales/{store_b['sale']}")
        assert found.status_code == 200, found.text
        assert client.get("/api/v1/stock", params={"store_id": OTHER}).status_code == 200
    finally:
        client.close()
