"""Benchmark: checkout speed, in the browser and through the API, with the pipeline running.

(a) In a headless Chromium (Debian's `chromium`): a cashier scans a product, clicks Pay,
    and we time the click until the receipt is on screen; p50/p95 over --browser-sales.
(b) POST /api/v1/sales from a load generator (bench/loadgen, in Go) at a steady --rate:
    --warmup seconds not counted, then --seconds measured: achieved throughput,
    p50/p95/p99 latency, errors; then the time until the stream job has applied every sale.

Starts its own app and stream job on the running stack, in the scratch shop `pos_bench`.

    cd bench && ../.venv/bin/python checkout.py [--browser-sales 100] [--rate 200] [--seconds 30]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
from common import bench_settings, machine, start_stream
from sqlalchemy import Engine, func, select

from pos_app.auth.cli import create_api_key_sync, create_user_sync
from pos_app.db.engine import make_sync_engine
from pos_app.db.tables import outbox, processed_events
from pos_app.settings import REPO_ROOT, Settings
from pos_app.till.service import ensure_shift_open_sync
from stack.install import find_program
from stack.processes import ProcessFiles, spawn, stop

LOADGEN_SOURCE = Path(__file__).resolve().parent / "loadgen"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_app(settings: Settings, port: int, workers: int = 1) -> ProcessFiles:
    files = ProcessFiles(settings.state_dir, "bench-checkout-app")
    stop(files)
    argv = [sys.executable, "-m", "pos_app.cli", "serve", "--port", str(port)]
    argv += ["--workers", str(workers)]
    spawn(files, argv, env=settings.as_env(), cwd=REPO_ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=2).status_code == 200:
                return files
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the app did not become healthy; see {files.log_file}")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(values: list[float]) -> str:
    return (
        f"p50 {statistics.median(values):.1f} ms, p95 {percentile(values, 0.95):.1f} ms, "
        f"p99 {percentile(values, 0.99):.1f} ms, max {max(values):.1f} ms (n={len(values)})"
    )


def browser_checkouts(settings: Settings, url: str, count: int, barcodes: list[str]) -> list[float]:
    """Milliseconds from the click on Pay until the receipt is visible, per sale."""
    from playwright.sync_api import sync_playwright

    password = uuid.uuid4().hex
    username = f"bench-{password[:6]}"
    create_user_sync(settings, username=username, password=password, role="cashier")
    ensure_shift_open_sync(settings, cashier=username)  # the counter takes money in a shift
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("chromium is not on PATH (posctl stack install installs it)")
    timings = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True)
        page = browser.new_page(base_url=url, viewport={"width": 1280, "height": 800})
        page.goto("/login")
        page.fill('input[name="username"]', username)
        page.fill('input[name="password"]', password)
        page.locator('form button[type="submit"]').last.click()
        page.wait_for_selector("#search")
        for i in range(count):
            page.fill("#search", barcodes[i % len(barcodes)])
            page.press("#search", "Enter")
            page.wait_for_selector("#pay")
            page.check('input[name="method"][value="card"]')
            started = time.perf_counter()
            page.click("#pay")
            page.wait_for_selector("#receipt", state="visible")
            timings.append((time.perf_counter() - started) * 1000)
            page.click("#new-sale")
            page.wait_for_selector("#cart-empty")
        browser.close()
    return timings


def build_loadgen(settings: Settings) -> Path:
    """The load generator is a small Go program, so that it takes little of the CPU it
    measures (the Python client it replaced used as much CPU as the app)."""
    binary = settings.state_dir / "bin" / "loadgen"
    subprocess.run(
        [find_program("go"), "build", "-o", str(binary), "."], cwd=LOADGEN_SOURCE, check=True
    )
    return binary


@dataclass
class ApiRun:
    latencies: list[float]  # ms, of the measured requests (warm-up not counted)
    recorded: int  # sales the app accepted, warm-up included
    errors: int
    elapsed: float  # measured seconds

    @property
    def achieved(self) -> float:
        """Sales per second answered within the measured seconds."""
        return len(self.latencies) / self.elapsed


def api_load(
    loadgen: Path, url: str, key: str, skus: list[str], rate: float, warmup: float, seconds: float
) -> ApiRun:
    """Sales sent at a steady rate, each at its own time whatever the answers do."""
    argv = [
        str(loadgen),
        f"--url={url}",
        f"--rate={rate}",
        f"--warmup={warmup}",
        f"--seconds={seconds}",
        f"--skus={','.join(skus)}",
    ]
    env = {**os.environ, "LOADGEN_API_KEY": key}
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
    result = json.loads(done.stdout)
    if result.get("first_error"):
        print(f"first error: {result['first_error']}", file=sys.stderr)
    return ApiRun(
        result["latencies_ms"],
        result["sent"] - result["errors"],
        result["errors"],
        result["elapsed_s"],
    )


def applied(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(processed_events)).scalar_one())


def unpublished(engine: Engine) -> int:
    """Outbox events the relay has not yet sent to Kafka."""
    with engine.connect() as conn:
        query = select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
        return int(conn.execute(query).scalar_one())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--browser-sales", type=int, default=100)
    parser.add_argument("--rate", type=float, default=200.0, help="API sales per second")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured, after the warm-up")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds at --rate, not counted")
    args = parser.parse_args()

    settings = bench_settings()
    loadgen = build_loadgen(settings)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    stream = start_stream(settings)
    app = start_app(settings, port)
    mysql = make_sync_engine(settings)  # one engine for the progress polls below
    try:
        key = create_api_key_sync(
            settings, name="checkout bench", scopes=["sales:write", "catalog:read"]
        )
        products = httpx.get(f"{url}/api/v1/products", headers={"Authorization": f"Bearer {key}"})
        catalog = products.json()
        print(f"(a) {args.browser_sales} checkouts in Chromium ...", file=sys.stderr)
        barcodes = [p["barcode"] for p in catalog if p["barcode"]]
        clicks = browser_checkouts(settings, url, args.browser_sales, barcodes)
        before = applied(mysql)
        print(
            f"(b) POST /api/v1/sales at {args.rate}/s: {args.warmup} s warm-up, "
            f"{args.seconds} s measured ...",
            file=sys.stderr,
        )
        run = api_load(
            loadgen, url, key, [p["sku"] for p in catalog], args.rate, args.warmup, args.seconds
        )
        sent_done = time.monotonic()
        target = before + run.recorded
        while applied(mysql) < target and time.monotonic() - sent_done < 300:
            time.sleep(0.5)
        drained = time.monotonic() - sent_done
        caught_up = applied(mysql) >= target
        if not caught_up:  # say where the sales stopped before the processes go
            print(
                f"applied {applied(mysql)} of {target}; {unpublished(mysql)} not yet "
                f"sent by the relay; logs: {app.log_file}, {stream.log_file}",
                file=sys.stderr,
            )
    finally:
        mysql.dispose()
        stop(app)
        stop(stream)

    print(f"\ncheckout benchmark, {datetime.now():%Y-%m-%d %H:%M}; machine: {machine()}")
    print(
        f"stream job: POS_STREAM_CPUS={settings.stream_cpus}, "
        f"POS_STREAM_FETCH_WAIT_MS={settings.stream_fetch_wait_ms}"
    )
    if clicks:
        print(f"(a) browser, click on Pay to receipt shown: {summary(clicks)}")
    print(
        f"(b) POST /api/v1/sales at {args.rate:.0f}/s for {args.seconds:.0f} s after "
        f"{args.warmup:.0f} s warm-up: {run.achieved:.1f} sales/s achieved, "
        f"{run.errors} errors (warm-up included); {summary(run.latencies)}"
    )
    state = "applied every sale" if caught_up else "had NOT applied every sale"
    print(f"    the stream job {state} {drained:.1f} s after the last request")


if __name__ == "__main__":
    main()
