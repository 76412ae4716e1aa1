"""`make bench-all`: every benchmark of the speed issue on the running stack, one table.

Runs, each on a fresh scratch shop (`pos_bench`) with its own app and stream job:
1. sale to stock and to the Today figures at shop pace (freshness.py), with where a
   sale's time goes (request, outbox relay, Kafka and the micro-batch) and the stream
   job's micro-batches in that time;
2. POST /api/v1/sales from the Go load generator at 50, 200 and 500 sales/s offered
   (checkout.py), with the stream job running;
3. the Kaggle year replayed through the pipeline (replay.py): seconds to MySQL and to
   both stores, and the stack's peak memory;
4. `posctl verify` over that year's raw events (stream_jobs/rebuild.py, a dry run);
5. the refill plan page on that shop: the first visit after the app starts, then more.

Prints one table: each figure, the issue's aim, the previous figure (the "now" column of
the table in docs/performance.md) and now/previous. `--write` puts the new table and
the machine in docs/performance.md. A profile of one sale request is `profile_sale.py`.

    cd bench && ../.venv/bin/python all.py [--write] [--workers N]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
from checkout import api_load, build_loadgen, free_port, percentile, start_app
from common import bench_settings, machine, start_stream
from freshness import post_sales, signed_in
from freshness import start_app as start_freshness_app
from replay import STORE, default_dir, replay

from pos_app.auth.cli import create_api_key_sync
from pos_app.settings import REPO_ROOT, Settings
from stack.processes import stop
from stream_jobs.rebuild import rebuild

DOC = REPO_ROOT / "docs" / "performance.md"
START, END = "<!-- bench-all:start -->", "<!-- bench-all:end -->"


@dataclass(frozen=True)
class Figure:
    what: str  # also the row's key in the table of docs/performance.md
    unit: str
    aim: str
    value: float | None  # None: no sample to take it from (the table says "not measured")


def shop_pace(figures: list[Figure]) -> None:
    settings = bench_settings()
    stream = start_stream(settings)
    app = start_freshness_app(settings)
    try:
        run = post_sales(settings, warmup=25, count=300, rate=5.0)
    finally:
        stop(app)
        stop(stream)
    stock_p95 = percentile(run.latencies, 0.95) if run.latencies else None
    today_p95 = percentile(run.today, 0.95) if run.today else None
    figures += [
        Figure("sale to stock at 5 sales/s, p50", "s", "", _median(run.latencies)),
        Figure("sale to stock at 5 sales/s, p95", "s", "≤ 0.5", stock_p95),
        Figure("sale to the Today figures, p95", "s", "≤ 1", today_p95),
        Figure("sales lost (not in stock after 120 s)", "sales", "0", float(run.lost)),
    ]
    print(run.profile(), flush=True)
    print(batch_profile(stream.log_file), flush=True)


# The stream job's line per micro-batch (stream_jobs/sales_stream.py), MySQL's or MongoDB's.
BATCH = re.compile(
    r"(raw )?batch \d+: (\d+) (?:applied|events).* in ([\d.]+) s "
    r"\(spark ([\d.]+), (mysql|mongodb) ([\d.]+)\)"
)


def batch_profile(log_file: Path) -> str:
    """The stream job's micro-batches from its log: how many, and where their time went."""
    found: dict[str, list[tuple[int, float, float, float]]] = {"mysql": [], "mongodb": []}
    for line in log_file.read_text(errors="replace").splitlines():
        if match := BATCH.search(line):
            _, events, total, spark, sink, stored = match.groups()
            found[sink].append((int(events), float(total), float(spark), float(stored)))
    rows = ["micro-batches of the stream job (median)   batches  events  total s  spark s  store s"]
    for sink, batches in found.items():
        if batches:
            columns = list(zip(*batches, strict=True))
            rows.append(
                f"  {'into ' + sink:40} {len(batches):7} {statistics.median(columns[0]):7.0f} "
                f"{statistics.median(columns[1]):8.2f} {statistics.median(columns[2]):8.2f} "
                f"{statistics.median(columns[3]):8.2f}"
            )
    return "\n".join(rows)


def api_rates(figures: list[Figure], workers: int) -> None:
    settings = bench_settings()
    loadgen = build_loadgen(settings)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    stream = start_stream(settings)
    app = start_app(settings, port, workers=workers)
    try:
        key = create_api_key_sync(settings, name="bench", scopes=["sales:write", "catalog:read"])
        skus = [
            p["sku"]
            for p in httpx.get(f"{url}/api/v1/products", headers={"Authorization": f"Bearer {key}"})
            .raise_for_status()
            .json()
        ]
        for rate, aims in ((50, ("", "≤ 15")), (200, ("", "≤ 25")), (500, ("≥ 500", ""))):
            print(f"POST /api/v1/sales at {rate}/s ...", file=sys.stderr, flush=True)
            run = api_load(loadgen, url, key, skus, rate, warmup=5, seconds=30)
            name = f"POST /api/v1/sales at {rate}/s offered"
            figures += [
                Figure(f"{name}: achieved", "sales/s", aims[0], run.achieved),
                Figure(f"{name}: p50", "ms", "", _median(run.latencies)),
                Figure(f"{name}: p99", "ms", aims[1], percentile(run.latencies, 0.99)),
                Figure(f"{name}: errors", "requests", "0", float(run.errors)),
            ]
            time.sleep(10)  # let the stream job drain before the next rate
    finally:
        stop(app)
        stop(stream)


def kaggle_year(figures: list[Figure], folder: Path) -> None:
    year = replay(folder)
    figures += [
        Figure(
            "Kaggle year replay: first publish to last line in MySQL",
            "s",
            "≤ 20",
            year.mysql_seconds,
        ),
        Figure(
            "Kaggle year replay: to the last line in MySQL and MongoDB", "s", "≤ 40", year.seconds
        ),
        Figure("peak memory during the replay, whole stack", "MiB", "≤ 3,072", year.peak_mib),
    ]

    started = time.monotonic()
    outcome = rebuild(year.settings, dry_run=True, log=lambda line: print(line, file=sys.stderr))
    verify_seconds = time.monotonic() - started
    figures += [
        Figure(
            "posctl verify over the Kaggle year's raw events",
            "s",
            "≤ 30",
            verify_seconds,
        ),
        Figure("raw events verify read", "events", "", float(outcome.events)),
        Figure("rows verify found different", "rows", "0", float(len(outcome.differences))),
    ]
    refill_visits(figures, year.settings.model_copy(update={"store_id": STORE}))


def refill_visits(figures: list[Figure], settings: Settings, visits: int = 30) -> None:
    """The refill plan page as a manager sees it: the first visit after the app starts
    (nothing stored for this shop yet), then `visits` more."""
    port = free_port()
    app = start_app(settings, port)
    try:
        client = signed_in(f"http://127.0.0.1:{port}", settings, role="manager")
        times = []
        for _ in range(visits + 1):
            started = time.perf_counter()
            client.get("/manager/refill-plan").raise_for_status()
            times.append((time.perf_counter() - started) * 1000)
        client.close()
    finally:
        stop(app)
    figures += [
        Figure("/manager/refill-plan, first visit after start", "ms", "≤ 100", times[0]),
        Figure(
            f"/manager/refill-plan, p95 of the next {visits}",
            "ms",
            "≤ 100",
            percentile(times[1:], 0.95),
        ),
    ]


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


# --- the table ---------------------------------------------------------------------------


def previous_figures(text: str) -> dict[str, str]:
    """The "now" column of the table between the markers, by the row's first cell."""
    if START not in text:
        return {}
    table = text.split(START, 1)[1].split(END, 1)[0]
    rows = [line.split("|")[1:-1] for line in table.splitlines() if line.startswith("| ")]
    return {cells[0].strip(): cells[3].strip() for cells in rows[1:] if len(cells) >= 5}


def number(cell: str) -> float | None:
    found = re.search(r"-?[\d,]*\.?\d+", cell)
    return float(found.group().replace(",", "")) if found else None


def show(value: float | None, unit: str) -> str:
    if value is None:
        return "not measured"
    if unit in ("ms", "MiB", "sales", "rows", "requests", "events") or value >= 100:
        return f"{value:,.0f} {unit}"
    return f"{value:,.2f} {unit}" if unit == "s" and value < 10 else f"{value:,.1f} {unit}"


def table(figures: list[Figure], previous: dict[str, str]) -> str:
    lines = ["| figure | aim | previous | now | now / previous |", "|---|---|---|---|---|"]
    for f in figures:
        before = previous.get(f.what, "-")
        old = number(before)
        ratio = "-"
        if f.value is not None and old:
            ratio = f"{f.value / old:.2f}"
        aim = f"{f.aim} {f.unit}" if f.aim else ""
        lines.append(f"| {f.what} | {aim} | {before} | {show(f.value, f.unit)} | {ratio} |")
    return "\n".join(lines)


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="put the table in " + DOC.name)
    parser.add_argument("--workers", type=int, default=2, help="app processes for the API load")
    parser.add_argument("--dir", default=default_dir(), help="the Kaggle sales data")
    args = parser.parse_args()
    started, load_before = datetime.now(), load_average()
    commit = subprocess.run(  # the code measured, whatever is committed meanwhile
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO_ROOT
    ).stdout.strip()
    figures: list[Figure] = []
    for stage in (
        lambda: shop_pace(figures),
        lambda: api_rates(figures, args.workers),
        lambda: kaggle_year(figures, Path(args.dir)),
    ):
        measured = len(figures)
        try:
            stage()
        except Exception:  # the other stages still measure; this one is left out of the table
            traceback.print_exc()
        for figure in figures[measured:]:
            print(f"{figure.what}: {show(figure.value, figure.unit)}", flush=True)

    doc = DOC.read_text()
    result = table(figures, previous_figures(doc))
    heading = (
        f"`make bench-all`, {started:%Y-%m-%d %H:%M} (commit {commit}); machine: {machine()}; "
        f"load average (1, 5, 15 min) {load_before} before, {load_average()} after; "
        f"app workers for the API rows: {args.workers}"
    )
    print(f"\n{heading}\n\n{result}")
    if args.write:
        before, rest = doc.split(START, 1)
        after = rest.split(END, 1)[1]
        DOC.write_text(f"{before}{START}\n{heading}\n\n{result}\n{END}{after}")
        print(f"\nwritten to {DOC.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
