"""Benchmark: sale-to-stock and sale-to-Today-view latency, and the stack's memory.

The sales go through the whole path: POST /api/v1/sales -> MySQL outbox -> relay ->
Kafka -> Spark -> MySQL `stocks` (and MongoDB).

Starts its own app and stream job on the running local stack (database `pos_bench`,
topics `bench-<id>.*`), posts sales through the API at a steady rate, and for each
sale measures the time from sending the request to the commit that updated `stocks`
(the stream job stamps `processed_events.processed_at` in that same transaction;
MySQL runs on this machine, so both clocks are the same clock). Beside that, a thread
polls the manager's Today figures (`GET /api/v1/reports/today`, what the Today page's
partial renders) every 100 ms and times each sale from its request to the first poll
that counts it: by its id in the latest sales, or, if a batch stored more sales than
that list holds, by the day's number of sales reaching it. The page itself polls every
2 s, so a person sees a sale up to 2 s (1 s on average) after that. It also samples the
resident memory (RSS) of every process of the stack.

The first sales after the stream job starts wait for the JVM to warm up (its first
micro-batch takes seconds): `--warmup` sales are posted first and reported apart.

    cd bench && ../.venv/bin/python freshness.py [--sales 300] [--rate 5] [--warmup 25]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime

import httpx
from common import MemorySampler, bench_settings, machine, start_stream
from sqlalchemy import select

from pos_app.auth.cli import create_api_key_sync
from pos_app.db.engine import make_sync_engine
from pos_app.db.tables import outbox, processed_events
from pos_app.settings import REPO_ROOT, Settings
from stack.processes import ProcessFiles, spawn, stop

PORT = 8010


def start_app(settings: Settings) -> ProcessFiles:
    files = ProcessFiles(settings.state_dir, "bench-app")
    stop(files)
    spawn(
        files,
        [sys.executable, "-m", "pos_app.cli", "serve", "--port", str(PORT)],
        env=settings.as_env(),
        cwd=REPO_ROOT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{PORT}/health/ready", timeout=2).status_code == 200:
                return files
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the app did not become healthy; see {files.log_file}")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sales", type=int, default=300)
    parser.add_argument("--rate", type=float, default=5.0, help="sales per second")
    parser.add_argument("--warmup", type=int, default=25, help="first sales, reported apart")
    args = parser.parse_args()

    settings = bench_settings()
    stream = start_stream(settings)
    app = start_app(settings)
    try:
        memory = MemorySampler(settings, {"stream job (python + JVM)": stream, "app": app})
        memory.start()
        run = post_sales(settings, args.warmup, args.sales, args.rate)
        memory.stop()
    finally:
        stop(app)
        stop(stream)

    print(f"\nfreshness benchmark, {datetime.now():%Y-%m-%d %H:%M}; machine: {machine()}")
    print(
        f"load: {args.warmup} warm-up sales, then {args.sales} measured, "
        f"through POST /api/v1/sales at {args.rate}/s"
    )
    print(f"sales not in the stock table after 120 s: {run.lost}")
    post_ms, latencies, today = run.post_ms, run.latencies, run.today
    print(
        f"POST /api/v1/sales (commit to MySQL with its outbox event): "
        f"p50 {statistics.median(post_ms):.1f} ms, p95 {percentile(post_ms, 0.95):.1f} ms"
    )
    if run.warmup:
        print(f"sale-to-stock latency, warm-up sales: max {max(run.warmup):.2f} s")
    if latencies:
        print(
            f"sale-to-stock latency: p50 {statistics.median(latencies):.2f} s, "
            f"p95 {percentile(latencies, 0.95):.2f} s, max {max(latencies):.2f} s "
            f"(n={len(latencies)})"
        )
    if today:
        print(
            f"sale-to-Today-view latency (API poll every 0.1 s): "
            f"p50 {statistics.median(today):.2f} s, p95 {percentile(today, 0.95):.2f} s, "
            f"max {max(today):.2f} s (n={len(today)}); the page polls every 2 s on top"
        )
    print(run.profile())
    print(memory.report())


class TodayWatcher(threading.Thread):
    """Polls the Today figures; notes when each sale is first counted there."""

    def __init__(self, url: str, auth: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.client = httpx.Client(base_url=url, timeout=30, headers=auth)
        self.base = self.client.get("/api/v1/reports/today").raise_for_status().json()
        self.seen_at: dict[str, float] = {}  # sale id -> first poll that listed it
        self.count_at: list[tuple[int, float]] = []  # (sales counted today, poll time)
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            today = self.client.get("/api/v1/reports/today").raise_for_status().json()
            now = time.time()
            for sale in today["recent_sales"]:
                self.seen_at.setdefault(sale["sale_id"], now)
            self.count_at.append((today["today"]["sales"] - self.base["today"]["sales"], now))
            self.done.wait(0.1)
        self.client.close()

    def latencies(self, order: list[str], sent_at: dict[str, float]) -> dict[str, float]:
        result = {}
        for n, sale in enumerate(order, start=1):
            at = self.seen_at.get(sale)
            if at is None:  # never among the latest: when the count first covered it
                at = next((t for counted, t in self.count_at if counted >= n), None)
            if at is not None:
                result[sale] = at - sent_at[sale]
        return result


@dataclass
class Run:
    post_ms: list[float]  # per measured sale: the POST's round trip
    latencies: list[float]  # per measured sale: seconds from request to the stock commit
    today: list[float]  # per measured sale: seconds from request to the Today figures
    warmup: list[float]  # per warm-up sale: seconds from request to the stock commit
    lost: int  # sales never applied
    # Per measured sale, where its time to stock went, in seconds (MySQL's clock throughout):
    # request -> outbox row committed, -> the relay published it, -> the stream job applied it.
    stages: dict[str, list[float]]

    def profile(self) -> str:
        rows = ["where a sale's time to stock goes      p50 s   p95 s"]
        for stage, seconds in self.stages.items():
            if seconds:
                rows.append(
                    f"  {stage:36} {statistics.median(seconds):5.2f}   "
                    f"{percentile(seconds, 0.95):5.2f}"
                )
        return "\n".join(rows)


def post_sales(settings: Settings, warmup: int, count: int, rate: float) -> Run:
    """Post warm-up and then measured sales at one steady rate, and time each."""
    url = f"http://127.0.0.1:{PORT}"
    key = create_api_key_sync(
        settings, name="freshness bench", scopes=["sales:write", "catalog:read", "reports:read"]
    )
    auth = {"Authorization": f"Bearer {key}"}
    skus = [p["sku"] for p in httpx.get(f"{url}/api/v1/products", headers=auth).json()]
    rng = random.Random(42)
    sent_at: dict[str, float] = {}
    order: list[str] = []
    post_ms: list[float] = []
    watcher = TodayWatcher(url, auth)
    watcher.start()
    start = time.monotonic()
    print(f"posting {warmup} + {count} sales at {rate}/s ...", file=sys.stderr)
    with httpx.Client(base_url=url, timeout=30, headers=auth) as client:
        for i in range(warmup + count):
            time.sleep(max(0.0, start + i / rate - time.monotonic()))
            lines = [
                {"sku": sku, "quantity": rng.randint(1, 3)}
                for sku in rng.sample(skus, rng.randint(1, 3))
            ]
            t0 = time.time()
            response = client.post("/api/v1/sales", json={"lines": lines})
            post_ms.append((time.time() - t0) * 1000)
            response.raise_for_status()
            sent_at[response.json()["sale_id"]] = t0
            order.append(response.json()["sale_id"])

    engine = make_sync_engine(settings)
    deadline = time.monotonic() + 120
    while True:
        with engine.connect() as conn:
            rows = conn.execute(
                select(processed_events.c.sale_id, processed_events.c.processed_at)
            ).all()
        if len(rows) >= len(sent_at) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    with engine.connect() as conn:
        relayed = {
            row.document_id: (row.created_at, row.published_at)
            for row in conn.execute(
                select(outbox.c.document_id, outbox.c.created_at, outbox.c.published_at)
            )
        }
    engine.dispose()
    time.sleep(1)  # a last poll or two of the Today figures
    watcher.done.set()
    watcher.join()
    to_stock = {sale: at.timestamp() - sent_at[sale] for sale, at in rows if sale in sent_at}
    to_today = watcher.latencies(order, sent_at)
    measured = order[warmup:]
    applied_at = {sale: at for sale, at in rows}
    stages: dict[str, list[float]] = {
        "request to outbox commit": [],
        "outbox commit to published (relay)": [],
        "published to applied (Kafka, Spark)": [],
    }
    for sale in measured:
        created, published = relayed.get(sale, (None, None))
        if created is None or published is None or sale not in applied_at:
            continue
        spans = (
            created.timestamp() - sent_at[sale],
            (published - created).total_seconds(),
            (applied_at[sale] - published).total_seconds(),
        )
        for stage, seconds in zip(stages, spans, strict=True):
            stages[stage].append(seconds)
    return Run(
        post_ms=post_ms[warmup:],
        latencies=[to_stock[sale] for sale in measured if sale in to_stock],
        today=[to_today[sale] for sale in measured if sale in to_today],
        warmup=[to_stock[sale] for sale in order[:warmup] if sale in to_stock],
        lost=len(sent_at) - len(to_stock),
        stages=stages,
    )


if __name__ == "__main__":
    main()
