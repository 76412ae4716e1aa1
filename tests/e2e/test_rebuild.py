"""MongoDB as the backup: `posctl rebuild` recomputes every processed MySQL table from
the raw events, exactly, even while sales keep arriving; `posctl verify` names any row
that differs."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select, text

from pos_app.db.tables import (
    processed_events,
    sale_documents,
    sale_totals,
    sales,
    sales_yearly,
    stocks,
)
from pos_app.settings import REPO_ROOT, Settings
from stream_jobs.rebuild import NOT_COMPARED, REBUILT
from tests.factories import encode, sale_event
from tests.stack_support import ChildProcess, wait_for

pytestmark = pytest.mark.stack
SKUS = ("EGY-WHT-XL", "GBG-PNK-23")  # used by no other test


def posctl(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pos_app.cli", *args],
        env={**os.environ, **settings.as_env()},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def snapshot(mysql: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every processed table, row for row (without the when-written columns)."""
    tables = {}
    with mysql.connect() as conn:
        for table in REBUILT:
            columns = [c for c in table.c if c.name not in NOT_COMPARED]
            key = list(table.primary_key.columns)
            tables[table.name] = [tuple(r) for r in conn.execute(select(*columns).order_by(*key))]
    return tables


def wait_applied(mysql: Engine, event_ids: list[str], timeout: float = 60) -> None:
    """Wait until the pipeline has applied (or refused) nothing less than these events."""

    def done() -> bool:
        with mysql.connect() as conn:
            found = conn.scalar(
                select(func.count())
                .select_from(processed_events)
                .where(processed_events.c.event_id.in_(event_ids))
            )
        return found == len(event_ids)

    wait_for(done, timeout=timeout, what=f"{len(event_ids)} events applied")


def wait_raw_copies(mongo: Any, event_ids: list[str], timeout: float = 60) -> None:
    """Wait until MongoDB holds these events too: the raw copy runs beside the MySQL
    apply, a batch or two behind, and a rebuild recomputes what MongoDB holds."""
    wait_for(
        lambda: mongo.raw_events.count_documents({"_id": {"$in": event_ids}}) == len(event_ids),
        timeout=timeout,
        what=f"the raw copies of {len(event_ids)} events",
    )


def test_a_day_of_traffic_comes_back_from_the_raw_events(
    api: httpx.Client,
    stream_job: ChildProcess,
    mysql: Engine,
    mongo: Any,
    settings: Settings,
    publish: Callable[[list[tuple[bytes | None, bytes]]], None],
) -> None:
    sold, events = [], []
    for quantity in (1, 2, 3):
        answer = api.post(
            "/api/v1/sales",
            json={
                "lines": [{"sku": SKUS[0], "quantity": quantity}, {"sku": SKUS[1], "quantity": 1}]
            },
        )
        assert answer.status_code == 201, answer.text
        sold.append(answer.json())
    received = api.post(
        "/api/v1/inventory/receipts", json={"lines": [{"sku": SKUS[0], "quantity": 20}]}
    )
    adjusted = api.post(
        "/api/v1/inventory/adjustments",
        json={"reason": "count", "lines": [{"sku": SKUS[1], "quantity": -1}]},
    )
    publish([(b"poison", b"{this is not an event")])
    back = api.post(
        f"/api/v1/sales/{sold[2]['sale_id']}/returns",
        json={"reason": "too big", "lines": [{"line_no": 1, "quantity": 2}]},
    )
    for answer in (received, adjusted, back):
        assert answer.status_code == 201, answer.text
        events.append(answer.json()["event_id"])
    wait_applied(mysql, [sale["event_id"] for sale in sold] + events)
    wait_raw_copies(mongo, [sale["event_id"] for sale in sold] + events)
    before = snapshot(mysql)
    assert before["sale_returns"] and before["stock_movements"] and before["sales"]
    # The sales documents' read model: each sale and the return, as recorded.
    documents = {(row[0], row[1]) for row in before["sale_documents"]}
    assert {("sale.completed", sale["sale_id"]) for sale in sold} <= documents
    assert ("sale.returned", back.json()["return_id"]) in documents

    with mysql.begin() as conn:  # MySQL loses every processed table
        conn.execute(text("SET FOREIGN_KEY_CHECKS = 0"))
        for table in REBUILT:
            conn.execute(text(f"DROP TABLE `{table.name}`"))
    rebuilt = posctl(settings, "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    assert snapshot(mysql) == before

    verified = posctl(settings, "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr[-2000:]
    assert "rows that differ from the live tables: none" in verified.stdout

    line_id = f"{sold[0]['sale_id']}:1"
    with mysql.begin() as conn:  # a bug (or a person) writes wrong figures
        conn.execute(text("UPDATE sales_yearly SET revenue = revenue + 1 LIMIT 1"))
        conn.execute(sales.delete().where(sales.c.line_id == line_id))
        conn.execute(
            sale_documents.update()
            .where(sale_documents.c.document_id == sold[1]["sale_id"])
            .values(document="{}")
        )
        conn.execute(
            stocks.update()
            .where(stocks.c.store_id == settings.store_id, stocks.c.sku == SKUS[1])
            .values(on_hand=stocks.c.on_hand - 1)
        )
        # A trailing space the collation ignores, and a year the raw events never made.
        conn.execute(
            sale_totals.update()
            .where(sale_totals.c.document_id == sold[2]["sale_id"])
            .values(cashier=func.concat(sale_totals.c.cashier, " "))
        )
        year = conn.execute(
            select(sales_yearly).where(sales_yearly.c.store_id == settings.store_id).limit(1)
        ).mappings()
        conn.execute(sales_yearly.insert().values({**year.one(), "year": 1999}))
    tampered = posctl(settings, "verify")
    assert tampered.returncode == 1, tampered.stdout + tampered.stderr[-2000:]
    assert f"sales ('{line_id}',): expected {{" in tampered.stdout
    assert "found None" in tampered.stdout
    assert "sales_yearly (" in tampered.stdout
    assert f"sale_documents ('sale.completed', '{sold[1]['sale_id']}'): expected {{" in (
        tampered.stdout
    )
    assert f"stocks ('{settings.store_id}', '{SKUS[1]}'): expected {{" in tampered.stdout
    assert f"sale_totals ('{sold[2]['sale_id']}',): expected {{" in tampered.stdout
    assert f"sales_yearly ('{settings.store_id}', 1999): expected None, found {{" in (
        tampered.stdout
    )
    assert (
        "rows that differ from the live tables: sale_documents: 1, sale_totals: 1, sales: 1, "
        "sales_yearly: 2, stocks: 1;"
    ) in tampered.stdout

    assert posctl(settings, "rebuild").returncode == 0
    assert snapshot(mysql) == before


def test_a_rebuild_while_sales_keep_arriving_loses_and_doubles_nothing(
    api: httpx.Client, stream_job: ChildProcess, mysql: Engine, settings: Settings
) -> None:
    acknowledged: list[dict[str, Any]] = []
    stop = threading.Event()

    def sell() -> None:
        while not stop.is_set():
            answer = api.post("/api/v1/sales", json={"lines": [{"sku": SKUS[0], "quantity": 1}]})
            if answer.status_code == 201:
                acknowledged.append(answer.json())
            time.sleep(0.2)

    counter = threading.Thread(target=sell)
    counter.start()
    try:
        time.sleep(3)
        rebuilt = posctl(settings, "rebuild")
        time.sleep(3)
    finally:
        stop.set()
        counter.join()
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    assert len(acknowledged) > 20
    wait_applied(mysql, [sale["event_id"] for sale in acknowledged])

    ids = [sale["sale_id"] for sale in acknowledged]
    with mysql.connect() as conn:
        stored = conn.execute(
            select(sales.c.sale_id, func.count())
            .where(sales.c.sale_id.in_(ids))
            .group_by(sales.c.sale_id)
        ).all()
        lines_total = conn.scalar(select(func.sum(sales.c.sales)))
        returned = conn.scalar(text("SELECT COALESCE(SUM(refund), 0) FROM sale_returns"))
        yearly_total = conn.scalar(select(func.sum(sales_yearly.c.revenue)))
    assert sorted(stored) == sorted((sale_id, 1) for sale_id in ids)  # each once
    assert yearly_total == lines_total - returned  # the period tables agree to the kyat
    verified = posctl(settings, "verify")
    assert verified.returncode == 0, verified.stdout[-3000:]


def test_a_rebuild_of_one_store_puts_it_right_and_leaves_the_others_as_they_are(
    stream_job: ChildProcess,
    mysql: Engine,
    settings: Settings,
    publish: Callable[[list[tuple[bytes | None, bytes]]], None],
) -> None:
    other = "mandalay-rebuild"
    sale = sale_event([(SKUS[0], 2, "26000")], store_id=other)
    publish([encode(sale)])
    wait_applied(mysql, [sale["event_id"]])
    before = snapshot(mysql)
    assert any(row[0] == other for row in before["sales_yearly"])

    def corrupt(store: str) -> None:
        with mysql.begin() as conn:
            conn.execute(
                text("UPDATE sales_yearly SET revenue = revenue + 1 WHERE store_id = :s"),
                {"s": store},
            )
            conn.execute(sales.delete().where(sales.c.store_id == store))

    corrupt(settings.store_id)
    corrupt(other)
    rebuilt = posctl(settings, "rebuild", "--store", settings.store_id)
    assert rebuilt.returncode == 0, rebuilt.stderr[-3000:]
    after = snapshot(mysql)
    for table, rows in before.items():
        # The rebuilt store is back, row for row; the other keeps its wrong figures, so
        # nothing of it was recomputed.
        mine = [row for row in rows if settings.store_id in row]
        assert [row for row in after[table] if settings.store_id in row] == mine, table
    assert after["sales_yearly"] != before["sales_yearly"]
    assert not [row for row in after["sales"] if other in row]

    assert posctl(settings, "rebuild").returncode == 0  # and a full rebuild mends the other
    assert snapshot(mysql) == before
