"""Payments in the books: the stream job stores each sale's tenders (with a wallet's
reference) and each return's refund method in `sale_payments`, exactly once, and the
payment report is a GROUP BY over them."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select

from pos_app.db.tables import sale_payments
from pos_app.settings import Settings
from tests.e2e.test_rebuild import wait_applied
from tests.factories import encode, sale_event
from tests.stack_support import ChildProcess, wait_for

pytestmark = pytest.mark.stack
SKU = "LGY-COT-NVY"


def stored(mysql: Engine, sale_ids: list[str]) -> list[dict[str, Any]]:
    with mysql.connect() as conn:
        query = (
            select(sale_payments)
            .where(sale_payments.c.sale_id.in_(sale_ids))
            .order_by(sale_payments.c.payment_id)
        )
        return [dict(row) for row in conn.execute(query).mappings()]


def test_payments_and_refunds_are_booked_once_and_the_report_adds_them_up(
    api: httpx.Client,
    stream_job: ChildProcess,
    mysql: Engine,
    mongo: Any,
    settings: Settings,
    publish: Callable[[list[tuple[bytes | None, bytes]]], None],
) -> None:
    price = Decimal(
        next(p["unit_price"] for p in api.get("/api/v1/products").json() if p["sku"] == SKU)
    )

    def kbzpay_today() -> Decimal:
        """The day's KBZPay total so far: the session's shop has other tests' sales too."""
        today = settings.today().isoformat()
        report = api.get("/api/v1/reports/payments", params={"from": today, "to": today})
        rows = report.json()["rows"]
        return sum((Decimal(r["amount"]) for r in rows if r["method"] == "kbzpay"), Decimal(0))

    kbzpay_before = kbzpay_today()
    line = [{"sku": SKU, "quantity": 2}]
    bodies = [
        {"lines": line, "payment": {"method": "cash", "tendered": str(price * 3)}},
        {"lines": line, "payment": {"method": "kbzpay", "reference": "KBZ-0001"}},
        {
            "lines": line,
            "payments": [
                {"method": "cash", "amount": "1000", "tendered": "5000"},
                {"method": "wavepay", "amount": str(price * 2 - 1000), "reference": "WP-77"},
            ],
        },
    ]
    sold = []
    for body in bodies:
        answer = api.post("/api/v1/sales", json=body)
        assert answer.status_code == 201, answer.text
        sold.append(answer.json())
    assert sold[1]["payment"]["reference"] == "KBZ-0001"
    assert sold[2]["payments"][1]["reference"] == "WP-77"
    back = api.post(
        f"/api/v1/sales/{sold[0]['sale_id']}/returns",
        json={
            "reason": "too long",
            "lines": [{"line_no": 1, "quantity": 1}],
            "refund_method": "kbzpay",
        },
    )
    assert back.status_code == 201, back.text
    assert back.json()["refund_method"] == "kbzpay"
    cash_refund = api.post(
        f"/api/v1/sales/{sold[1]['sale_id']}/returns",
        json={"reason": "changed mind", "lines": [{"line_no": 1, "quantity": 1}]},
    )
    assert cash_refund.status_code == 201, cash_refund.text

    # A sale whose payment cannot be booked is rejected with the reason, not half-stored.
    bad = sale_event([(SKU, 1, str(price))], occurred_at=sold[0]["occurred_at"])
    bad["payment"] = {"method": "cash", "amount": "a lot"}
    publish([encode(bad)])

    events = [s["event_id"] for s in sold] + [
        back.json()["event_id"],
        cash_refund.json()["event_id"],
    ]
    wait_applied(mysql, events)
    ids = [s["sale_id"] for s in sold]
    rows = stored(mysql, ids)
    returns = [back.json()["return_id"], cash_refund.json()["return_id"]]
    assert {
        r["payment_id"]: (r["kind"], r["method"], r["amount"], r["reference"]) for r in rows
    } == {
        f"{ids[0]}:1": ("sale", "cash", price * 2, None),
        f"{returns[0]}:1": ("refund", "kbzpay", -price, None),
        f"{ids[1]}:1": ("sale", "kbzpay", price * 2, "KBZ-0001"),
        f"{returns[1]}:1": ("refund", "cash", -price, None),
        f"{ids[2]}:1": ("sale", "cash", Decimal(1000), None),
        f"{ids[2]}:2": ("sale", "wavepay", price * 2 - 1000, "WP-77"),
    }
    rejected = wait_for(
        lambda: mongo.rejected_events.find_one({"event_id": bad["event_id"]}),
        timeout=30,
        what="the rejected sale",
    )
    assert (
        rejected["reason"] == f"sale {bad['sale_id']}: payment 1: amount must be a decimal string"
    )
    assert not stored(mysql, [bad["sale_id"]])

    # Replaying the events changes nothing: each payment is booked once.
    with mysql.connect() as conn:
        before = conn.scalar(select(func.count()).select_from(sale_payments))
    raw = list(mongo.raw_events.find({"_id": {"$in": events}}))
    publish([(doc["event"]["sale_id"].encode(), json.dumps(doc["event"]).encode()) for doc in raw])
    # One new sale behind the copies on each of their partitions (keyed alike).
    markers = [sale_event([(SKU, 1, str(price))], occurred_at=sold[0]["occurred_at"]) for _ in ids]
    publish([(key.encode(), encode(m)[1]) for key, m in zip(ids, markers, strict=True)])
    wait_applied(mysql, [m["event_id"] for m in markers])
    with mysql.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(sale_payments)) == before + len(ids)

    # The report is a GROUP BY over the stored payments, by day and by month.
    day = sold[0]["occurred_at"][:10]
    with mysql.connect() as conn:
        by_method = {
            r.method: (r.amount, r.paid)
            for r in conn.execute(
                select(
                    sale_payments.c.method,
                    func.sum(sale_payments.c.amount).label("amount"),
                    func.sum(func.greatest(sale_payments.c.amount, 0)).label("paid"),
                )
                .where(sale_payments.c.payment_date == day)
                .group_by(sale_payments.c.method)
            )
        }
    for granularity in ("day", "month"):
        report = api.get(
            "/api/v1/reports/payments",
            params={"from": day, "to": day, "granularity": granularity},
        )
        assert report.status_code == 200, report.text
        got = {
            r["method"]: (Decimal(r["amount"]), Decimal(r["paid"])) for r in report.json()["rows"]
        }
        assert got == by_method
    assert day == settings.today().isoformat()
    # The kbzpay sale less the kbzpay refund, beside what other tests sold by KBZPay today.
    assert by_method["kbzpay"][0] - kbzpay_before == price * 2 - price
    as_csv = api.get(
        "/api/v1/reports/payments",
        params={"from": day, "to": day},
        headers={"Accept": "text/csv"},
    )
    assert as_csv.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert {r["method"]: Decimal(r["amount"]) for r in table} == {
        m: v[0] for m, v in by_method.items()
    }
    upside_down = api.get("/api/v1/reports/payments", params={"from": day, "to": "2000-01-01"})
    assert upside_down.status_code == 422
