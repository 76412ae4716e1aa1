"""A stock count on the real stack: three differences posted as one `count`
adjustment, on hand equal to the counted figures after the pipeline, and the variance
in units and in kyat at cost exact; bad counts change nothing."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select

from pos_app.db.tables import outbox, stock_movements
from tests.stack_support import ChildProcess, log_in, wait_for

pytestmark = pytest.mark.stack
OPENING = {"BO-CNT-A": 10, "BO-CNT-B": 6, "BO-CNT-C": 3, "BO-CNT-D": 8}  # category "Count"
COSTS = {"BO-CNT-A": "5000", "BO-CNT-B": "12000", "BO-CNT-C": "7000", "BO-CNT-D": "2000"}
COUNTED = {"BO-CNT-A": 8, "BO-CNT-B": 6, "BO-CNT-C": 5, "BO-CNT-D": 0}


def on_hand(api: httpx.Client) -> dict[str, int]:
    return {s["sku"]: s["on_hand"] for s in api.get("/api/v1/stock").json() if s["sku"] in OPENING}


def outbox_size(mysql: Engine) -> int:
    with mysql.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(outbox)) or 0)


def test_a_count_with_three_differences(
    app_url: str, users: dict[str, str], api: httpx.Client, mysql: Engine, stream_job: ChildProcess
) -> None:
    for sku, units in OPENING.items():
        made = api.post(
            "/api/v1/products",
            json={
                "sku": sku,
                "name": f"Count {sku[-1]}",
                "category": "Count",
                "unit_price": "20000",
                "cost_price": COSTS[sku],
                "opening_stock": units,
            },
        )
        assert made.status_code == 201, made.text
    wait_for(lambda: on_hand(api) == OPENING, timeout=90, what="the opening stock")

    with httpx.Client(base_url=app_url, timeout=30) as manager:
        token = log_in(manager, "manager", users["manager"])
        blind = manager.get("/manager/stock-counts", params={"category": "Count"}).text
        assert re.findall(r'<tr data-sku="([^"]+)"', blind) == sorted(OPENING)
        assert ">10<" not in blind  # a blind count shows no expected figures
        shown = manager.get(
            "/manager/stock-counts", params={"category": "Count", "expected": "true"}
        )
        assert '<td class="num">10</td>' in shown.text

        before = outbox_size(mysql)
        for bad in ({"count_BO-CNT-A": "-1"}, {"count_BO-CNT-A": "x"}, {"count_NO-SUCH": "1"}, {}):
            refused = manager.post(
                "/manager/stock-counts", data={"csrf_token": token, "category": "Count", **bad}
            )
            assert refused.status_code == 422, refused.text[:500]
            assert 'id="count-error"' in refused.text
        assert outbox_size(mysql) == before  # nothing posted

        form = {f"count_{sku}": str(n) for sku, n in COUNTED.items()}
        posted = manager.post(
            "/manager/stock-counts", data={"csrf_token": token, "category": "Count", **form}
        )
        assert posted.status_code == 200, posted.text[:800]
        adjustment = re.search(r"Posted as adjustment (ADJ[0-9A-F-]+)", posted.text)
        assert adjustment is not None
        rows = {
            sku: (diff, value)
            for sku, diff, value in re.findall(
                r'<tr data-sku="([^"]+)"[^>]*>.*?class="num diff">([^<]*)</td>'
                r'<td class="num value">([^<]*)</td>',
                posted.text,
                re.S,
            )
        }
        assert rows == {
            "BO-CNT-A": ("-2", "-10,000 Ks"),
            "BO-CNT-B": ("+0", "0 Ks"),
            "BO-CNT-C": ("+2", "14,000 Ks"),
            "BO-CNT-D": ("-8", "-16,000 Ks"),
        }
        units = re.search(r'id="variance-units">([^<]*)<', posted.text)
        value = re.search(r'id="variance-value">([^<]*)<', posted.text)
        assert units is not None and value is not None
        assert (units.group(1), value.group(1)) == ("-8", "-12,000 Ks")
        assert Decimal(-10000 + 14000 - 16000) == Decimal(-12000)

    wait_for(lambda: on_hand(api) == COUNTED, timeout=60, what="on hand equal to the count")
    with mysql.connect() as conn:
        moved: list[Any] = conn.execute(
            select(stock_movements.c.sku, stock_movements.c.quantity, stock_movements.c.reason)
            .where(stock_movements.c.document_id == adjustment.group(1))
            .order_by(stock_movements.c.line_id)
        ).all()
    assert sorted((r[0], r[1], r[2]) for r in moved) == [
        ("BO-CNT-A", -2, "count"),
        ("BO-CNT-C", 2, "count"),
        ("BO-CNT-D", -8, "count"),
    ]


def test_a_count_through_the_api(api: httpx.Client, stream_job: ChildProcess) -> None:
    made = api.post(
        "/api/v1/products",
        json={
            "sku": "BO-CNT-API",
            "name": "Count API",
            "category": "Count API",
            "unit_price": "9000",
            "cost_price": "4000",
            "opening_stock": 5,
        },
    )
    assert made.status_code == 201, made.text

    def stock() -> int | None:
        found = [s for s in api.get("/api/v1/stock").json() if s["sku"] == "BO-CNT-API"]
        return found[0]["on_hand"] if found else None

    wait_for(lambda: stock() == 5, timeout=90, what="the opening stock")
    for bad in (
        {"lines": []},
        {"lines": [{"sku": "BO-CNT-API", "counted": -1}]},
        {"lines": [{"sku": "NO-SUCH", "counted": 1}]},
        {"lines": [{"sku": "BO-CNT-API", "counted": 1}, {"sku": "BO-CNT-API", "counted": 2}]},
    ):
        assert api.post("/api/v1/inventory/counts", json=bad).status_code == 422, bad
    answer = api.post(
        "/api/v1/inventory/counts", json={"lines": [{"sku": "BO-CNT-API", "counted": 2}]}
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["adjustment_id"].startswith("ADJ")
    assert (body["units"], Decimal(body["value_at_cost"])) == (-3, Decimal(-12000))
    assert body["lines"][0]["expected"] == 5 and body["lines"][0]["difference"] == -3
    wait_for(lambda: stock() == 2, timeout=60, what="on hand equal to the count")
