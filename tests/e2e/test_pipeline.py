"""A sale travels app -> Kafka -> Spark -> MongoDB + MySQL -> back to the app."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select, text

from pos_app.db.tables import processed_events, sales
from tests.factories import encode, sale_event
from tests.stack_support import ChildProcess, wait_for

pytestmark = pytest.mark.stack


def stock(api: httpx.Client) -> dict[str, dict[str, Any]]:
    response = api.get("/api/v1/stock")
    assert response.status_code == 200, response.text
    return {row["sku"]: row for row in response.json()}


def lines_of(mysql: Engine, sale_ids: list[str]) -> list[dict[str, Any]]:
    with mysql.connect() as conn:
        query = select(sales).where(sales.c.sale_id.in_(sale_ids)).order_by(sales.c.line_id)
        return [dict(row) for row in conn.execute(query).mappings()]


def processed_count(mysql: Engine, sale_ids: list[str]) -> int:
    with mysql.connect() as conn:
        query = select(func.count()).where(processed_events.c.sale_id.in_(sale_ids))
        return int(conn.scalar(query) or 0)


def test_sale_through_the_api_reaches_every_store(
    api: httpx.Client, stream_job: ChildProcess, mysql: Engine, mongo: Any
) -> None:
    before = stock(api)
    response = api.post(
        "/api/v1/sales",
        json={
            "lines": [{"sku": "TKP-BLK-M", "quantity": 2}, {"sku": "LGY-SLK-GRN", "quantity": 1}],
            "payment": {"method": "cash", "tendered": "500000"},
            "cashier": "Ko Aung",
        },
    )
    assert response.status_code == 201, response.text
    sale = response.json()
    prices = {p["sku"]: Decimal(p["unit_price"]) for p in api.get("/api/v1/products").json()}
    expected_total = prices["TKP-BLK-M"] * 2 + prices["LGY-SLK-GRN"]
    assert Decimal(sale["totals"]["total"]) == expected_total
    assert Decimal(sale["payment"]["change"]) == Decimal(500000) - expected_total

    # MongoDB: the raw event, exactly as published.
    raw = wait_for(
        lambda: mongo.raw_events.find_one({"_id": sale["event_id"]}),
        timeout=60,  # the first batch of the session includes Spark's warm-up
        what="the raw event in MongoDB",
    )
    assert raw["event"]["sale_id"] == sale["sale_id"]
    assert raw["event"]["lines"][0]["unit_price"] == sale["lines"][0]["unit_price"]

    # MySQL: one row per line, exact decimals, shop-local date parts.
    rows = wait_for(lambda: lines_of(mysql, [sale["sale_id"]]), timeout=10, what="sale lines")
    assert [(r["sku"], r["quantity_sold"]) for r in rows] == [("TKP-BLK-M", 2), ("LGY-SLK-GRN", 1)]
    assert sum(r["sales"] for r in rows) == expected_total
    local_day = sale["occurred_at"][:10]
    assert str(rows[0]["sale_date"]) == local_day
    assert rows[0]["cashier"] == "tests"  # the API key's name, not the body's "Ko Aung"

    # The app reads the stock back: on hand down, total sold up.
    after = wait_for(
        lambda: (
            (s := stock(api))["TKP-BLK-M"]["total_sold"] > before["TKP-BLK-M"]["total_sold"] and s
        ),
        timeout=10,
        what="the stock to move",
    )
    assert after["TKP-BLK-M"]["on_hand"] == before["TKP-BLK-M"]["on_hand"] - 2
    assert after["TKP-BLK-M"]["total_sold"] == before["TKP-BLK-M"]["total_sold"] + 2
    assert after["LGY-SLK-GRN"]["on_hand"] == before["LGY-SLK-GRN"]["on_hand"] - 1


def test_the_same_event_twice_is_counted_once(
    api: httpx.Client, stream_job: ChildProcess, mysql: Engine, mongo: Any, publish: Any
) -> None:
    before = stock(api)
    event = sale_event([("EGY-WHT-L", 3, "28000")])
    replayed_sale = {**event, "event_id": str(uuid.uuid4())}  # same sale, new event id
    # All on one partition (one key), so the sentinel is processed after the copies.
    sentinel = sale_event([("EGY-WHT-L", 1, "28000")])
    key = event["sale_id"].encode()
    publish(
        [
            (key, encode(event)[1]),
            (key, encode(event)[1]),
            (key, encode(replayed_sale)[1]),
            (key, encode(sentinel)[1]),
        ]
    )

    wait_for(lambda: lines_of(mysql, [sentinel["sale_id"]]), timeout=15, what="the sentinel")
    assert len(lines_of(mysql, [event["sale_id"]])) == 1
    assert processed_count(mysql, [event["sale_id"]]) == 1
    # MongoDB is written beside MySQL: wait for the refusal, then count.
    refused = wait_for(
        lambda: mongo.rejected_events.find_one({"event_id": replayed_sale["event_id"]}),
        timeout=15,
        what="the second event for the sale recorded as rejected",
    )
    assert "already recorded" in refused["reason"]
    wait_for(
        lambda: mongo.raw_events.find_one({"_id": sentinel["event_id"]}),
        timeout=15,
        what="the sentinel in MongoDB",
    )
    assert mongo.raw_events.count_documents({"event.sale_id": event["sale_id"]}) == 1
    after = wait_for(
        lambda: (
            (s := stock(api))["EGY-WHT-L"]["total_sold"] == before["EGY-WHT-L"]["total_sold"] + 4
            and s
        ),
        timeout=5,
        what="stock counted once",
    )
    assert after["EGY-WHT-L"]["on_hand"] == before["EGY-WHT-L"]["on_hand"] - 4


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"this is not json", "not valid JSON"),
        (b"[1, 2, 3]", "not a JSON object"),
        (
            json.dumps({"event_type": "sale.completed", "schema_version": 1}).encode(),
            "missing field: event_id",
        ),
        (encode(sale_event([("NO-SUCH-SKU", 1, "1000")]))[1], "unknown SKU NO-SUCH-SKU"),
        (encode(sale_event([("BAG-SHN-BLK", 0, "15000")]))[1], "quantity must be a positive"),
        (encode(sale_event([("BAG-SHN-BLK", -2, "15000")]))[1], "quantity must be a positive"),
        (
            encode({**sale_event([("BAG-SHN-BLK", 1, "15000")]), "schema_version": 9})[1],
            "unsupported schema_version: 9",
        ),
    ],
    ids=[
        "not-json",
        "array",
        "missing-fields",
        "unknown-sku",
        "zero-qty",
        "negative-qty",
        "unknown-version",
    ],
)
def test_a_malformed_message_is_rejected_and_the_job_goes_on(
    payload: bytes,
    reason: str,
    stream_job: ChildProcess,
    mysql: Engine,
    mongo: Any,
    publish: Any,
) -> None:
    key = uuid.uuid4().hex.encode()
    good = sale_event([("BAG-SHN-BLU", 1, "15000")])
    publish([(key, payload), (key, encode(good)[1])])

    wait_for(
        lambda: lines_of(mysql, [good["sale_id"]]),
        timeout=15,
        what="the good event after the bad one",
    )
    # MongoDB is written beside MySQL (its own query): wait for it too.
    rejected = wait_for(
        lambda: mongo.rejected_events.find_one({"value": payload.decode()}),
        timeout=15,
        what="the bad message recorded as rejected",
    )
    assert reason in rejected["reason"]
    assert stream_job.alive()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"lines": [{"sku": "NO-SUCH-SKU", "quantity": 1}]}, "unknown SKU: NO-SUCH-SKU"),
        ({"lines": [{"sku": "BAG-SHN-BLK", "quantity": 0}]}, "greater than 0"),
        ({"lines": [{"sku": "BAG-SHN-BLK", "quantity": -1}]}, "greater than 0"),
        (
            {"lines": [{"sku": "BAG-SHN-BLK", "quantity": 1, "unit_price": "1"}]},
            "Extra inputs are not permitted",
        ),
        ({"lines": []}, "at least 1 item"),
        (
            {
                "lines": [{"sku": "BAG-SHN-BLK", "quantity": 2}],
                "payment": {"method": "cash", "tendered": "100"},
            },
            "less than the total",
        ),
        (
            {"lines": [{"sku": "BAG-SHN-BLK", "quantity": 1}], "payment": {"method": "bitcoin"}},
            "Input should be",
        ),
    ],
    ids=[
        "unknown-sku",
        "zero-qty",
        "negative-qty",
        "client-price",
        "no-lines",
        "short-cash",
        "bad-method",
    ],
)
def test_a_bad_api_request_gets_a_4xx_that_says_why(
    api: httpx.Client, body: dict[str, Any], message: str
) -> None:
    response = api.post("/api/v1/sales", json=body)
    assert response.status_code == 422
    assert message in response.text


def test_a_body_that_is_not_json_is_refused(api: httpx.Client) -> None:
    response = api.post(
        "/api/v1/sales", content=b"{oops", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert "JSON decode error" in response.text


def test_health_reports_each_dependency(api: httpx.Client, app_url: str) -> None:
    response = api.get("/health")
    assert response.status_code == 200
    assert response.json()["checks"] == {"mysql": "ok", "kafka": "ok", "mongodb": "ok"}
    # Anyone may ask whether the app lives and can sell; the details need a sign-in.
    with httpx.Client(base_url=app_url, timeout=10) as anonymous:
        assert anonymous.get("/health/live").json() == {"status": "ok"}
        assert anonymous.get("/health/ready").json() == {"status": "ready"}
        hidden = anonymous.get("/health")
    assert hidden.status_code == 401
    assert "mysql" not in hidden.text


def test_a_job_killed_mid_stream_loses_nothing_and_counts_nothing_twice(
    api: httpx.Client, stream_job: ChildProcess, mysql: Engine, mongo: Any, publish: Any
) -> None:
    skus = ["LGY-COT-BLU", "GBG-WHT-22", "SDL-BLK-9"]
    prices = {p["sku"]: p["unit_price"] for p in api.get("/api/v1/products").json()}
    events = [
        sale_event(
            [
                (skus[i % 3], 1 + i % 4, prices[skus[i % 3]]),
                (skus[(i + 1) % 3], 1, prices[skus[(i + 1) % 3]]),
            ]
        )
        for i in range(300)
    ]
    sale_ids = [e["sale_id"] for e in events]
    units = Counter[str]()
    for e in events:
        for line in e["lines"]:
            units[line["sku"]] += line["quantity"]
    revenue = sum(Decimal(e["totals"]["total"]) for e in events)
    before = stock(api)

    publish([encode(e) for e in events])
    wait_for(lambda: processed_count(mysql, sale_ids) > 0, timeout=20, what="the first batch")
    stream_job.kill()  # SIGKILL to the JVM and the driver, in the middle of the backlog
    done_at_kill = processed_count(mysql, sale_ids)
    assert 0 < done_at_kill < len(events), "the kill did not land mid-stream"

    log_mark = len(stream_job.log())
    stream_job.start()
    stream_job.wait_log("stream job running", timeout=120, after=log_mark)
    wait_for(
        lambda: processed_count(mysql, sale_ids) == len(events),
        timeout=180,  # a restart warms two queries up on the same cores
        what="the whole backlog after the restart",
    )

    rows = lines_of(mysql, sale_ids)
    assert len(rows) == 2 * len(events)
    assert sum(r["sales"] for r in rows) == revenue
    # MongoDB is written beside MySQL (its own query).
    wait_for(
        lambda: (
            mongo.raw_events.count_documents({"event.sale_id": {"$in": sale_ids}}) == len(events)
        ),
        timeout=30,
        what="one raw event per sale in MongoDB",
    )
    after = stock(api)
    for sku in skus:
        assert after[sku]["total_sold"] - before[sku]["total_sold"] == units[sku]
        assert before[sku]["on_hand"] - after[sku]["on_hand"] == units[sku]


def test_the_period_tables_agree_with_the_lines(
    stream_job: ChildProcess, mysql: Engine, api: httpx.Client
) -> None:
    """Whatever ran before (duplicates, rejects, a killed job, returns), the tables the
    reports read hold exactly the sums of the sale lines less the returned lines."""
    net = (
        "(SELECT store_id, year, month, sale_date AS day, sku, sales AS amount, "
        "quantity_sold AS units, sale_id, 1 AS is_line FROM sales "
        "UNION ALL SELECT store_id, YEAR(return_date), MONTH(return_date), return_date, sku, "
        "-refund, -quantity_returned, NULL, 0 FROM sale_returns) AS net"
    )
    measures = "SUM(amount), SUM(units), COUNT(DISTINCT sale_id), SUM(is_line)"
    checks = {
        "sales_monthly": f"SELECT store_id, year, month, {measures} FROM {net} "
        "GROUP BY store_id, year, month",
        "sales_daily": f"SELECT store_id, day, {measures} FROM {net} GROUP BY store_id, day",
        "product_monthly_sales": f"SELECT store_id, year, month, sku, {measures} FROM {net} "
        "GROUP BY store_id, year, month, sku",
    }
    keys = {
        "sales_monthly": "store_id, year, month",
        "sales_daily": "store_id, sale_date",
        "product_monthly_sales": "store_id, year, month, sku",
    }
    with mysql.connect() as conn:
        for table, from_lines in checks.items():
            kept = conn.execute(
                text(f"SELECT {keys[table]}, revenue, units, sales_count, lines_count FROM {table}")
            ).all()
            assert sorted(kept) == sorted(conn.execute(text(from_lines)).all()), table
            assert kept, table
    summary = api.get("/api/v1/reports/summary").json()
    with mysql.connect() as conn:
        revenue = conn.execute(
            text(
                "SELECT (SELECT SUM(sales) FROM sales WHERE store_id = 'yangon-1') - "
                "(SELECT COALESCE(SUM(refund), 0) FROM sale_returns WHERE store_id = 'yangon-1')"
            )
        )
        assert Decimal(summary["totals"]["revenue"]) == revenue.scalar()
