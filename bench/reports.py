"""Benchmark: the manager's report pages and APIs on a large history.

Loads a scratch shop (`pos_bench`) with ~200,000 sale lines of the demo shop's
generated history (pos_app/catalog/demo_history.py at a larger scale). For speed the
lines are bulk-inserted straight into the processed tables (`sales`, the period
tables, `stocks`) with the same aggregation the stream job uses
(stream_jobs/aggregates.py), and the raw events into MongoDB `raw_events`, instead of
going through Kafka and Spark: this benchmark is about reading, not the pipeline
(`make replay` times that). Then it starts the app and times each report page and API,
p50/p95 over N requests after a warm-up, measured at the client on loopback with
keep-alive (so they include ~1 ms of HTTP on top of the server's work). The refill plan
is timed twice: one full computation (reading the raw sales from MongoDB) and the
stored plan as pages and the API serve it.

    cd bench && ../.venv/bin/python reports.py [--lines 200000] [--requests 50]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from common import bench_settings, machine
from freshness import PORT, percentile, start_app
from pymongo import MongoClient
from sqlalchemy import text
from sqlalchemy.dialects.mysql import insert

from pos_app.auth.cli import create_api_key_sync, create_user_sync
from pos_app.catalog import demo_history
from pos_app.catalog.seed import parse_catalog
from pos_app.contract import SaleCompleted
from pos_app.db.engine import make_async_engine, make_sync_engine
from pos_app.db.tables import sales as sales_table
from pos_app.planning.service import compute_plan
from pos_app.settings import REPO_ROOT, Settings
from stack.processes import stop
from stream_jobs.aggregates import period_deltas
from stream_jobs.rows import SaleLine
from stream_jobs.sinks import PERIOD_TABLES

CHUNK = 5000


def sale_lines(sale: SaleCompleted) -> list[dict[str, Any]]:
    """The `sales` rows the stream job would write for this event."""
    local = sale.occurred_at
    utc = local.astimezone(UTC).replace(tzinfo=None)
    return [
        {
            "line_id": f"{sale.sale_id}:{line.line_no}",
            "sale_id": sale.sale_id,
            "event_id": sale.event_id,
            "line_no": line.line_no,
            "store_id": sale.store_id,
            "register_id": sale.register_id,
            "cashier": sale.cashier,
            "sku": line.sku,
            "product": line.name,
            "quantity_sold": line.quantity,
            "price_each": line.unit_price,
            "sales": line.unit_price * line.quantity,
            "sale_date": local.date(),
            "sale_time": local.time().replace(microsecond=0),
            "day": local.day,
            "month": local.month,
            "year": local.year,
            "occurred_at": utc,
        }
        for line in sale.lines
    ]


def load(settings: Settings, target_lines: int) -> tuple[int, int, int]:
    """Generate and bulk-load the history; (sales, lines, products)."""
    catalog = parse_catalog(REPO_ROOT / "data" / "demo_catalog.csv")
    now = datetime.now(ZoneInfo(settings.shop_timezone))
    # The demo shop sells ~19,600 lines over its history at 9 sales a day: scale to target.
    per_day = demo_history.BASE_SALES_PER_DAY * target_lines / 19_600
    started = time.monotonic()
    history = demo_history.build(catalog, store_id=settings.store_id, today=now, per_day=per_day)
    lines = [line for sale in history.sales for line in sale_lines(sale)]
    print(
        f"generated {len(history.sales):,} sales, {len(lines):,} lines "
        f"in {time.monotonic() - started:.1f} s",
        file=sys.stderr,
    )
    engine = make_sync_engine(settings)
    started = time.monotonic()
    try:
        with engine.begin() as conn:
            for i in range(0, len(lines), CHUNK):
                conn.execute(insert(sales_table), lines[i : i + CHUNK])
            for name, rows in period_deltas(SaleLine.of(line) for line in lines).rows().items():
                for i in range(0, len(rows), CHUNK):
                    conn.execute(insert(PERIOD_TABLES[name]), rows[i : i + CHUNK])
            sold: dict[str, int] = defaultdict(int)
            for line in lines:
                sold[line["sku"]] += line["quantity_sold"]
            received: dict[str, int] = defaultdict(int)
            for receipt in history.receipts:
                for item in receipt["lines"]:  # type: ignore[attr-defined]
                    received[item["sku"]] += int(item["quantity"])
            for sku, units in sold.items():  # restocked as the receipts say, then sold
                conn.execute(
                    text(
                        "UPDATE stocks SET stock_quantity = stock_quantity + :r,"
                        " total_sold = :s, on_hand = stock_quantity - :s"
                        " WHERE store_id = :store AND sku = :sku"
                    ),
                    {"r": received[sku], "s": units, "store": settings.store_id, "sku": sku},
                )
    finally:
        engine.dispose()
    print(f"MySQL: loaded in {time.monotonic() - started:.1f} s", file=sys.stderr)
    started = time.monotonic()
    with MongoClient(settings.mongo_url) as mongo:
        raw = mongo[settings.mongo_database]["raw_events"]
        raw.create_index("event.occurred_at")
        documents = [
            {"_id": s.event_id, "event": s.model_dump(mode="json"), "received_at": now}
            for s in history.sales
        ]
        for i in range(0, len(documents), CHUNK):
            raw.insert_many(documents[i : i + CHUNK], ordered=False)
    print(f"MongoDB: loaded in {time.monotonic() - started:.1f} s", file=sys.stderr)
    return len(history.sales), len(lines), len(catalog)


async def time_plan(settings: Settings) -> float:
    engine = make_async_engine(settings)
    started = time.monotonic()
    try:
        async with engine.begin() as conn:
            await compute_plan(conn, store_id=settings.store_id, today=settings.today(), months=3)
    finally:
        await engine.dispose()
    return time.monotonic() - started


def measure(client: httpx.Client, path: str, requests: int, headers: dict[str, str]) -> list[float]:
    for _ in range(3):  # warm-up: connections, caches
        client.get(path, headers=headers).raise_for_status()
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()

    settings = bench_settings()
    sales, lines, products = load(settings, args.lines)
    plan_seconds = asyncio.run(time_plan(settings))
    key = create_api_key_sync(settings, name="reports bench", scopes=["reports:read", "stock:read"])
    create_user_sync(settings, username="manager", password="bench-manager-pw-1", role="manager")
    app = start_app(settings)
    year = settings.today().year
    apis = [
        "/api/v1/reports/sales?granularity=year",
        "/api/v1/reports/sales?granularity=month",
        f"/api/v1/reports/sales?granularity=day&from={year}-01-01&to={year}-12-31",
        f"/api/v1/reports/top-products?year={year - 1}",
        f"/api/v1/reports/top-products?year={year - 1}&month=4&by=units",
        "/api/v1/reports/top-products",
        "/api/v1/reports/refill-plan?months=3",
        "/api/v1/stock/low",
        "/api/v1/reports/summary",
        "/api/v1/reports/dashboard",
    ]
    pages = [
        "/manager/dashboard",
        f"/manager/top-products?year={year - 1}",
        "/manager/refill-plan",
        "/manager/low-stock",
    ]
    results: list[tuple[str, list[float]]] = []
    try:
        url = f"http://127.0.0.1:{PORT}"
        auth = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=url, timeout=60) as client:
            for path in apis:
                results.append((path, measure(client, path, args.requests, auth)))
            csv = {**auth, "Accept": "text/csv"}
            path = "/api/v1/reports/sales?granularity=day"
            results.append((f"{path} (CSV)", measure(client, path, args.requests, csv)))
            page = client.get("/login")
            token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            client.post(
                "/login",
                data={"username": "manager", "password": "bench-manager-pw-1", "csrf_token": token},
            )
            for path in pages:
                results.append((path, measure(client, path, args.requests, {})))
    finally:
        stop(app)

    print(f"\nreports benchmark, {datetime.now():%Y-%m-%d %H:%M}; machine: {machine()}")
    print(
        f"data: {sales:,} sales, {lines:,} sale lines, {products} products, one store "
        f"(bulk-loaded into the processed tables and raw_events)"
    )
    print(f"refill plan, full computation from product_monthly_sales: {plan_seconds:.2f} s")
    print(f"{'request':<72} {'p50 ms':>8} {'p95 ms':>8}  (n={args.requests} each)")
    for path, times in results:
        print(f"{path:<72} {statistics.median(times):8.1f} {percentile(times, 0.95):8.1f}")


if __name__ == "__main__":
    main()
