"""Returns, goods received and stock adjustments travel through the pipeline like
sales: on hand = opening + received - sold + returned +/- adjustments, net sales in the
reports, an impossible return refused by the job, and one alert per reorder-point
crossing."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select

from pos_app.db.tables import sale_returns, sales_daily, stock_alerts, stock_movements
from pos_app.settings import Settings
from tests.factories import return_event
from tests.stack_support import ChildProcess, log_in, wait_for

pytestmark = pytest.mark.stack
RECEIVED_SKU = "SDL-MRN-10"  # these SKUs are used by no other test
RETURNED_SKU = "TKP-WHT-XL"
ALERT_SKU = "SDL-BLK-11"


def stock_of(api: httpx.Client, sku: str) -> dict[str, Any]:
    return next(s for s in api.get("/api/v1/stock").json() if s["sku"] == sku)


def wait_stock(api: httpx.Client, sku: str, check: Callable[[dict[str, Any]], bool]) -> Any:
    def probe() -> dict[str, Any] | None:
        stock = stock_of(api, sku)
        return stock if check(stock) else None

    return wait_for(probe, timeout=20, what=f"stock of {sku}")


def on_hand_formula(s: dict[str, Any]) -> int:
    return (
        s["stock_quantity"]
        + s["total_received"]
        - s["total_sold"]
        + s["total_returned"]
        + s["total_adjusted"]
    )


def test_receipts_and_adjustments_move_on_hand(
    api: httpx.Client, stream_job: ChildProcess, mysql: Engine
) -> None:
    before = stock_of(api, RECEIVED_SKU)
    received = api.post(
        "/api/v1/inventory/receipts",
        json={"supplier": "Mandalay Weavers", "lines": [{"sku": RECEIVED_SKU, "quantity": 12}]},
    )
    assert received.status_code == 201, received.text
    receipt = received.json()
    assert receipt["event_type"] == "stock.received" and receipt["receipt_id"].startswith("GR")
    damaged = api.post(
        "/api/v1/inventory/adjustments",
        json={"reason": "damage", "lines": [{"sku": RECEIVED_SKU, "quantity": -3}]},
    )
    assert damaged.status_code == 201, damaged.text

    after = wait_stock(
        api, RECEIVED_SKU, lambda s: s["total_adjusted"] == before["total_adjusted"] - 3
    )
    assert after["total_received"] == before["total_received"] + 12
    assert after["on_hand"] == before["on_hand"] + 12 - 3
    assert after["on_hand"] == on_hand_formula(after)
    with mysql.connect() as conn:
        rows = conn.execute(
            select(
                stock_movements.c.kind, stock_movements.c.quantity, stock_movements.c.reason
            ).where(stock_movements.c.document_id == receipt["receipt_id"])
        ).all()
    assert [tuple(r) for r in rows] == [("received", 12, "Mandalay Weavers")]


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("receipts", {"lines": [{"sku": "NO-SUCH", "quantity": 1}]}, "unknown SKU: NO-SUCH"),
        ("receipts", {"lines": [{"sku": RECEIVED_SKU, "quantity": 0}]}, "greater than 0"),
        ("receipts", {"lines": []}, "at least 1 item"),
        (
            "adjustments",
            {"reason": "count", "lines": [{"sku": RECEIVED_SKU, "quantity": 0}]},
            "an adjustment of 0 changes nothing",
        ),
        (
            "adjustments",
            {"reason": "gift", "lines": [{"sku": RECEIVED_SKU, "quantity": 1}]},
            "Input should be",
        ),
    ],
)
def test_bad_movements_get_a_clear_422(
    api: httpx.Client, path: str, body: dict[str, Any], message: str
) -> None:
    answer = api.post(f"/api/v1/inventory/{path}", json=body)
    assert answer.status_code == 422
    assert message in answer.text


def test_a_cashier_cannot_receive_goods(app_url: str, users: dict[str, str]) -> None:
    with httpx.Client(base_url=app_url, timeout=15) as client:
        token = log_in(client, "cashier", users["cashier"])
        answer = client.post(
            "/api/v1/inventory/receipts",
            json={"lines": [{"sku": RECEIVED_SKU, "quantity": 1}]},
            headers={"X-CSRF-Token": token},
        )
    assert answer.status_code == 403


def test_a_return_restores_stock_and_nets_the_day(
    api: httpx.Client, stream_job: ChildProcess, mysql: Engine, settings: Settings
) -> None:
    before = stock_of(api, RETURNED_SKU)
    sold = api.post(
        "/api/v1/sales",
        json={
            "lines": [{"sku": RETURNED_SKU, "quantity": 3}, {"sku": RECEIVED_SKU, "quantity": 1}]
        },
    )
    assert sold.status_code == 201, sold.text
    sale = sold.json()
    sale_id = sale["sale_id"]
    price = Decimal(sale["lines"][0]["unit_price"])

    detail = api.get(f"/api/v1/sales/{sale_id}").json()
    assert [(li["line_no"], li["returnable"]) for li in detail["lines"]] == [(1, 3), (2, 1)]

    too_many = api.post(
        f"/api/v1/sales/{sale_id}/returns",
        json={"reason": "wrong size", "lines": [{"line_no": 1, "quantity": 4}]},
    )
    assert too_many.status_code == 422
    assert "only 3 of 3 can come back" in too_many.text
    no_reason = api.post(
        f"/api/v1/sales/{sale_id}/returns", json={"lines": [{"line_no": 1, "quantity": 1}]}
    )
    assert no_reason.status_code == 422
    assert (
        api.post(
            "/api/v1/sales/NO-SUCH-SALE/returns",
            json={"reason": "x", "lines": [{"line_no": 1, "quantity": 1}]},
        ).status_code
        == 404
    )

    day_before = _day_revenue(mysql, settings)
    returned = api.post(
        f"/api/v1/sales/{sale_id}/returns",
        json={"reason": "wrong size", "lines": [{"line_no": 1, "quantity": 2}]},
    )
    assert returned.status_code == 201, returned.text
    back = returned.json()
    assert back["event_type"] == "sale.returned"
    assert Decimal(back["totals"]["refund"]) == price * 2

    after = wait_stock(
        api, RETURNED_SKU, lambda s: s["total_returned"] == before["total_returned"] + 2
    )
    assert after["total_sold"] == before["total_sold"] + 3
    assert after["on_hand"] == before["on_hand"] - 3 + 2
    assert after["on_hand"] == on_hand_formula(after)
    detail = api.get(f"/api/v1/sales/{sale_id}").json()
    assert detail["lines"][0]["returned"] == 2 and detail["lines"][0]["returnable"] == 1
    assert detail["return_ids"] == [back["return_id"]]
    with mysql.connect() as conn:
        refund = conn.scalar(
            select(sale_returns.c.refund).where(sale_returns.c.return_id == back["return_id"])
        )
    assert refund == price * 2
    # The day's revenue: the sale, less the refund (both today).
    sale_total = Decimal(sale["totals"]["total"])
    assert wait_for(
        lambda: _day_revenue(mysql, settings) == day_before + sale_total - price * 2 or None,
        timeout=10,
        what="the net day in sales_daily",
    )
    log = api.get("/api/v1/audit").json()
    assert any(e["action"] == "sale.returned" and e["target"] == f"sale:{sale_id}" for e in log)


def _day_revenue(mysql: Engine, settings: Settings) -> Decimal:
    with mysql.connect() as conn:
        value = conn.scalar(
            select(sales_daily.c.revenue).where(
                sales_daily.c.store_id == settings.store_id,
                sales_daily.c.sale_date == settings.today(),
            )
        )
    return value if value is not None else Decimal(0)


def test_the_job_refuses_a_return_of_more_than_was_sold(
    api: httpx.Client,
    stream_job: ChildProcess,
    publish: Callable[[list[tuple[bytes | None, bytes]]], None],
    mongo: Any,
) -> None:
    """A return that bypasses the app's checks is refused by the stream job: stock
    never rises by goods that were not sold."""
    sold = api.post("/api/v1/sales", json={"lines": [{"sku": RETURNED_SKU, "quantity": 1}]})
    sale = sold.json()
    wait_for(
        lambda: api.get(f"/api/v1/sales/{sale['sale_id']}").status_code == 200 or None,
        what="the sale",
    )
    before = wait_stock(api, RETURNED_SKU, lambda s: s["on_hand"] == on_hand_formula(s))
    event = return_event(sale["sale_id"], [(1, RETURNED_SKU, 5, sale["lines"][0]["unit_price"])])
    publish([(sale["sale_id"].encode(), json.dumps(event).encode())])
    rejected = wait_for(
        lambda: mongo["rejected_events"].find_one({"event_id": event["event_id"]}),
        timeout=20,
        what="the rejected return",
    )
    assert "returns 5 but only 1 of 1 can come back" in rejected["reason"]
    assert stock_of(api, RETURNED_SKU)["total_returned"] == before["total_returned"]


@pytest.fixture
def alert_sku(api: httpx.Client, stream_job: ChildProcess) -> Iterator[dict[str, Any]]:
    stock = stock_of(api, ALERT_SKU)
    # Reorder point two under on hand: the third unit sold crosses it.
    api.patch(f"/api/v1/products/{ALERT_SKU}", json={"reorder_point": stock["on_hand"] - 2})
    yield stock


def test_one_alert_per_crossing(
    api: httpx.Client, alert_sku: dict[str, Any], mysql: Engine
) -> None:
    start = alert_sku["on_hand"]

    def alerts() -> list[Any]:
        with mysql.connect() as conn:
            return list(
                conn.execute(
                    select(stock_alerts.c.alert_id, stock_alerts.c.on_hand)
                    .where(stock_alerts.c.sku == ALERT_SKU)
                    .order_by(stock_alerts.c.alert_id)
                )
            )

    def sell(quantity: int, expect_sold: int) -> None:
        answer = api.post(
            "/api/v1/sales", json={"lines": [{"sku": ALERT_SKU, "quantity": quantity}]}
        )
        assert answer.status_code == 201, answer.text
        wait_stock(api, ALERT_SKU, lambda s: s["total_sold"] == expect_sold)

    sold = alert_sku["total_sold"]
    sell(1, sold + 1)
    assert alerts() == []  # one above the reorder point
    sell(1, sold + 2)  # at the reorder point: crossed
    crossings = alerts()
    assert [c.on_hand for c in crossings] == [start - 2]
    sell(1, sold + 3)
    sell(1, sold + 4)
    assert alerts() == crossings  # once, not on every sale after it

    received = api.post(
        "/api/v1/inventory/receipts", json={"lines": [{"sku": ALERT_SKU, "quantity": 10}]}
    )
    assert received.status_code == 201
    wait_stock(api, ALERT_SKU, lambda s: s["on_hand"] == start - 4 + 10)
    assert alerts() == crossings  # going back up raises nothing
    sell(9, sold + 13)  # back under the reorder point: a second crossing
    crossings = alerts()
    assert len(crossings) == 2

    listed = api.get("/api/v1/alerts", params={"open": "true"}).json()
    ids = [a["alert_id"] for a in listed if a["sku"] == ALERT_SKU]
    assert sorted(ids) == [c.alert_id for c in crossings]
    first = crossings[0].alert_id
    assert api.post(f"/api/v1/alerts/{first}/acknowledge").status_code == 204
    assert api.post(f"/api/v1/alerts/{first}/acknowledge").status_code == 204  # idempotent
    assert api.post("/api/v1/alerts/999999999/acknowledge").status_code == 404
    still_open = [a["alert_id"] for a in api.get("/api/v1/alerts?open=true").json()]
    assert first not in still_open and crossings[1].alert_id in still_open


def test_a_manager_receives_goods_on_the_page(
    app_url: str, users: dict[str, str], api: httpx.Client, stream_job: ChildProcess
) -> None:
    before = stock_of(api, RECEIVED_SKU)
    with httpx.Client(base_url=app_url, timeout=15) as client:
        token = log_in(client, "manager", users["manager"])
        assert client.get("/manager/stock-movements").status_code == 200
        form = {"kind": "receipt", "sku": RECEIVED_SKU, "quantity": "5", "csrf_token": token}
        page = client.post("/manager/stock-movements", data=form)
        assert page.status_code == 200 and "recorded" in page.text
        bad = client.post("/manager/stock-movements", data={**form, "quantity": "zero"})
        assert bad.status_code == 422 and "quantity" in bad.text
        no_token = client.post("/manager/stock-movements", data={**form, "csrf_token": ""})
        assert no_token.status_code == 403
    wait_stock(api, RECEIVED_SKU, lambda s: s["total_received"] == before["total_received"] + 5)
