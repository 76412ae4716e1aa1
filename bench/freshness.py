"""Benchmark: sale-to-stock and sale-to-Today-view latency, and the stack's memory.

The sales go through the whole path: POST /api/v1/sales -> MySQL outbox -> relay ->
Kafka -> Spark -> MySQL `stocks` (and MongoDB).

Starts its own app and stream job on the running local stack (database `pos_bench`,
topics `bench-<id>.*`), posts sales through the API at a steady rate, and for each
sale measures the time from sending the request to the commit that updated `stocks`
(the stream job stamps `processed_events.processed_at` in that same transaction;
MySQL runs on this machine, so both clocks are the same clock). Beside that, a thread
follows the Today figures as the Today page does: signed in as a manager, it listens to
the app's `changed` events (`GET /live/events`) and on each reads the figures the page's
partial renders (`GET /api/v1/reports/today`); it times each sale from its request to
the first read that counts it: by its id in the latest sales, or, if a batch stored more
sales than that list holds, by the day's number of sales reaching it. It also samples
the resident memory (RSS) of every process of the stack.

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
from typing import Any

import httpx
from common import MemorySampler, bench_settings, machine, start_stream
from sqlalchemy import select

from pos_app.auth.cli import create_api_key_sync, create_user_sync
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


def signed_in(url: str, settings: Settings, *, role: str) -> httpx.Client:
    """A browser-like session of a new user of `role`, signed in through the login form."""
    username, password = f"bench-{role}-{random.randrange(10**6)}", f"bench-{role}-pw-12345"
    create_user_sync(settings, username=username, password=password, role=role)
    client = httpx.Client(base_url=url, timeout=60)
    token = client.get("/login").text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    form = {"username": username, "password": password, "csrf_token": token}
    answer = client.post("/login", data=form)
    if answer.status_code != 303:  # signed in: redirected to the person's home page
        raise SystemExit(f"could not sign in as {username}: {answer.status_code}")
    return client


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
            f"sale-to-Today-view latency (read on each pushed change, as the page): "
            f"p50 {statistics.median(today):.2f} s, p95 {percentile(today, 0.95):.2f} s, "
            f"max {max(today):.2f} s (n={len(today)})"
        )
    print(run.profile())
    print(memory.report())


class TodayWatcher(threading.Thread):
    """Reads the Today figures whenever the app says something changed, as the page does;
    notes when each sale is first counted there."""

    def __init__(self, url: str, auth: dict[str, str], settings: Settings) -> None:
        super().__init__(daemon=True)
        self.client = httpx.Client(base_url=url, timeout=30, headers=auth)
        self.page = signed_in(url, settings, role="manager")
        self.base = self.read()
        self.seen_at: dict[str, float] = {}  # sale id -> first read that listed it
        self.count_at: list[tuple[int, float]] = []  # (sales counted today, read time)
        self.done = threading.Event()

    def read(self) -> dict[str, Any]:
        today: dict[str, Any] = self.client.get("/api/v1/reports/today").raise_for_status().json()
        return today

    def run(self) -> None:
        try:
            with self.page.stream("GET", "/live/events", timeout=None) as events:
                for line in events.iter_lines():
                    if self.done.is_set():
                        return
                    if line == "event: changed":
                        self.note(self.read(), time.time())
        except httpx.HTTPError:
            if not self.done.is_set():  # the app going away at the end is no error
                raise

    def note(self, today: dict[str, Any], now: float) -> None:
        for sale in today["recent_sales"]:
            self.seen_at.setdefault(sale["sale_id"], now)
        self.count_at.append((today["today"]["sales"] - self.base["today"]["sales"], now))

    def stop(self) -> None:
        """The stream ends at its next event or heartbeat (15 s at most); not waited for."""
        self.done.set()

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
    watcher = TodayWatcher(url, auth, settings)
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
    time.sleep(1)  # the last change's read of the Today figures
    watcher.stop()
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
