"""Benchmark: sale-to-stock latency and the stack's memory, at rest and under load.

Starts its own app and stream job on the running local stack (database `pos_bench`,
topics `bench-<id>.*`), posts sales through the API at a steady rate, and for each
sale measures the time from sending the request to the commit that updated `stocks`
(the stream job stamps `processed_events.processed_at` in that same transaction;
MySQL runs on this machine, so both clocks are the same clock). It also samples the
resident memory (RSS) of every process of the stack.

    .venv/bin/python bench/freshness.py [--sales 300] [--rate 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path

import httpx
from sqlalchemy import select

from pos_app.db.engine import make_sync_engine
from pos_app.db.tables import processed_events
from pos_app.settings import REPO_ROOT, Settings
from stack.processes import ProcessFiles, spawn, stop
from stack.scratch import fresh_shop
from stack.services import SERVICES

BENCH_DB = "pos_bench"


def rss_kib(pid: int) -> int:
    """Resident memory of a process and all its descendants (the JVM under pyspark)."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
            pending.extend(int(child) for child in children)
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def stack_memory(pids: dict[str, int]) -> dict[str, int]:
    return {name: rss_kib(pid) for name, pid in pids.items()}


def wait_ready(url: str, files: list[ProcessFiles], stream_log: Path) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        for f in files:
            if f.running_pid() is None:
                raise SystemExit(f"{f.name} exited; see {f.log_file}")
        try:
            app_ok = httpx.get(f"{url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            app_ok = False
        if app_ok and "stream job running" in stream_log.read_text(errors="replace"):
            return
        time.sleep(0.5)
    raise SystemExit("the app or the stream job did not start in 180 s")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sales", type=int, default=300)
    parser.add_argument("--rate", type=float, default=5.0, help="sales per second")
    args = parser.parse_args()

    settings = Settings().model_copy(
        update={
            "mysql_database": BENCH_DB,
            "mongo_database": BENCH_DB,
            "kafka_topic_prefix": f"bench-{uuid.uuid4().hex[:8]}",
            "stream_checkpoint_dir": str(Settings().state_dir / "bench" / uuid.uuid4().hex[:8]),
        }
    )
    fresh_shop(settings)
    env = settings.as_env()
    port = 8010
    app_files = ProcessFiles(settings.state_dir, "bench-app")
    stream_files = ProcessFiles(settings.state_dir, "bench-stream")
    stream_files.log_file.unlink(missing_ok=True)
    spawn(stream_files, [sys.executable, "-m", "pos_app.cli", "stream"], env=env, cwd=REPO_ROOT)
    spawn(
        app_files,
        [sys.executable, "-m", "pos_app.cli", "serve", "--port", str(port)],
        env=env,
        cwd=REPO_ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, [app_files, stream_files], stream_files.log_file)
        run(settings, url, args, app_files, stream_files)
    finally:
        stop(app_files)
        stop(stream_files)


def run(
    settings: Settings,
    url: str,
    args: argparse.Namespace,
    app_files: ProcessFiles,
    stream_files: ProcessFiles,
) -> None:
    pids = {s.name: s.files(settings).running_pid() for s in SERVICES}
    pids["stream job (python + JVM)"] = stream_files.running_pid()
    pids["app"] = app_files.running_pid()
    missing = [name for name, pid in pids.items() if pid is None]
    if missing:
        raise SystemExit(f"not running: {', '.join(missing)} (run `posctl stack up`)")
    live_pids = {name: pid for name, pid in pids.items() if pid is not None}
    time.sleep(5)  # let the JVMs settle
    at_rest = stack_memory(live_pids)

    peak = dict(at_rest)
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.is_set():
            for name, kib in stack_memory(live_pids).items():
                peak[name] = max(peak[name], kib)
            time.sleep(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()

    skus = [p["sku"] for p in httpx.get(f"{url}/api/v1/products").json()]
    rng = random.Random(42)
    sent_at: dict[str, float] = {}
    post_ms: list[float] = []
    interval = 1.0 / args.rate
    start = time.monotonic()
    print(f"posting {args.sales} sales at {args.rate}/s ...", file=sys.stderr)
    with httpx.Client(base_url=url, timeout=30) as client:
        for i in range(args.sales):
            time.sleep(max(0.0, start + i * interval - time.monotonic()))
            lines = [
                {"sku": sku, "quantity": rng.randint(1, 3)}
                for sku in rng.sample(skus, rng.randint(1, 3))
            ]
            t0 = time.time()
            response = client.post("/api/v1/sales", json={"lines": lines})
            post_ms.append((time.time() - t0) * 1000)
            response.raise_for_status()
            sent_at[response.json()["sale_id"]] = t0
            if (i + 1) % 50 == 0:
                print(f"  {i + 1}/{args.sales}", file=sys.stderr)

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
    sampling.set()
    sampler.join()
    engine.dispose()

    latencies = [
        (processed_at.timestamp() - sent_at[sale_id])
        for sale_id, processed_at in rows
        if sale_id in sent_at
    ]
    lost = len(sent_at) - len(latencies)
    print_report(args, latencies, post_ms, lost, at_rest, peak)


def print_report(
    args: argparse.Namespace,
    latencies: list[float],
    post_ms: list[float],
    lost: int,
    at_rest: dict[str, int],
    peak: dict[str, int],
) -> None:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_total = int(Path("/proc/meminfo").read_text().split()[1]) / 1024 / 1024
    print(f"\nfreshness benchmark, {datetime.now():%Y-%m-%d %H:%M}")
    print(f"machine: {os.cpu_count()} cores ({cpu}), {mem_total:.1f} GiB RAM, {platform.system()}")
    print(f"load: {args.sales} sales through POST /api/v1/sales at {args.rate}/s")
    print(f"sales not in the stock table after 120 s: {lost}")
    print(
        f"POST /api/v1/sales (publish to Kafka, acks=all): "
        f"p50 {statistics.median(post_ms):.1f} ms, p95 {percentile(post_ms, 0.95):.1f} ms"
    )
    if latencies:
        print(
            f"sale-to-stock latency: p50 {statistics.median(latencies):.2f} s, "
            f"p95 {percentile(latencies, 0.95):.2f} s, max {max(latencies):.2f} s "
            f"(n={len(latencies)})"
        )
    print("\nresident memory (MiB)      at rest   peak under load")
    for name in at_rest:
        print(f"  {name:26} {at_rest[name] / 1024:7.0f}   {peak[name] / 1024:7.0f}")
    print(f"  {'total':26} {sum(at_rest.values()) / 1024:7.0f}   {sum(peak.values()) / 1024:7.0f}")


if __name__ == "__main__":
    main()
