"""Profile: where one POST /api/v1/sales spends its time, in the app and in MySQL.

Starts the app (one process, under cProfile) on a scratch shop with no stream job, posts
--sales sales one after another through one keep-alive connection, then stops the app
so cProfile writes its figures. Prints, per sale: the round trip at the client, the app
process's CPU time, MariaDB's statements by kind (its global counters, so the outbox
relay's publishing is counted too), and the functions that took the most of the app's
own time. Kafka must be up (the relay publishes the sales' events).

    cd bench && ../.venv/bin/python profile_sale.py [--sales 500] [--top 25]
"""

from __future__ import annotations

import argparse
import os
import pstats
import random
import signal
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

import httpx
from checkout import free_port, percentile
from common import bench_settings, machine
from sqlalchemy import Engine, text

from pos_app.auth.cli import create_api_key_sync
from pos_app.db.engine import make_sync_engine
from pos_app.settings import REPO_ROOT
from stack.processes import ProcessFiles, spawn, stop

COUNTERS = ("Questions", "Com_select", "Com_insert", "Com_update", "Com_commit", "Com_set_option")


def mysql_counters(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(text("SHOW GLOBAL STATUS")).all()
    return {name: int(value) for name, value in rows if name in COUNTERS}


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (from /proc, in clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sales", type=int, default=500)
    parser.add_argument("--top", type=int, default=25, help="functions to list")
    args = parser.parse_args()

    settings = bench_settings()
    port = free_port()
    files = ProcessFiles(settings.state_dir, "bench-profile-app")
    stats_file = settings.state_dir / "tmp" / "sale.prof"
    stats_file.parent.mkdir(parents=True, exist_ok=True)
    stats_file.unlink(missing_ok=True)
    argv = [sys.executable, "-m", "cProfile", "-o", str(stats_file)]
    argv += ["-m", "pos_app.cli", "serve", "--port", str(port), "--workers", "1"]
    stop(files)
    spawn(files, argv, env=settings.as_env(), cwd=REPO_ROOT)
    url = f"http://127.0.0.1:{port}"
    engine = make_sync_engine(settings)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{url}/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"the app did not become healthy; see {files.log_file}")
            time.sleep(0.5)
        pid = files.running_pid()
        assert pid is not None
        key = create_api_key_sync(settings, name="profile", scopes=["sales:write", "catalog:read"])
        rng = random.Random(7)
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as client:
            skus = [p["sku"] for p in client.get("/api/v1/products").raise_for_status().json()]

            def sale() -> float:
                lines = [
                    {"sku": sku, "quantity": rng.randint(1, 3)}
                    for sku in rng.sample(skus, rng.randint(1, 3))
                ]
                started = time.perf_counter()
                client.post("/api/v1/sales", json={"lines": lines}).raise_for_status()
                return (time.perf_counter() - started) * 1000

            for _ in range(20):  # warm-up: connections, the key cache, imports
                sale()
            time.sleep(2)  # the relay publishes the warm-up's events before we count
            counters, cpu = mysql_counters(engine), cpu_seconds(pid)
            timings = [sale() for _ in range(args.sales)]
            time.sleep(2)  # and the measured ones', so each sale's publish is counted
            cpu = cpu_seconds(pid) - cpu
            after = mysql_counters(engine)
    finally:
        engine.dispose()
        # uvicorn re-raises the signal it stopped on: SIGINT ends cProfile with its file written.
        stop(files, sig=signal.SIGINT)

    n = args.sales
    print(f"\nsale request profile, {datetime.now():%Y-%m-%d %H:%M}; machine: {machine()}")
    print(f"{n} sales of 1-3 lines, one after another on one connection, no stream job")
    print(
        f"round trip at the client: p50 {statistics.median(timings):.1f} ms, "
        f"p95 {percentile(timings, 0.95):.1f} ms"
    )
    print(f"app process CPU per sale (under cProfile): {cpu / n * 1000:.1f} ms")
    print(
        "MariaDB statements per sale (app and relay): "
        + ", ".join(f"{name} {(after[name] - counters[name]) / n:.1f}" for name in COUNTERS)
    )
    if not stats_file.exists():
        raise SystemExit(f"cProfile wrote nothing; see {files.log_file}")
    # The whole process's run: start-up imports and the warm-up are in it too.
    stats = pstats.Stats(str(stats_file))
    print(f"\nthe project's functions by cumulative time, top {args.top}:")
    stats.sort_stats(pstats.SortKey.CUMULATIVE).print_stats("pos_app", args.top)
    print(f"\nall functions by their own time, top {args.top}:")
    stats.sort_stats(pstats.SortKey.TIME).print_stats(args.top)


if __name__ == "__main__":
    main()
