"""Benchmark: replay the Kaggle year (185,686 lines) through the pipeline at full speed.

From empty tables (a scratch shop `pos_bench` on the running stack), imports every
monthly file as `posctl import kaggle --max` does, then waits until MySQL (`sales`)
and MongoDB (`raw_events`) hold every line and sale. Prints the lines, the seconds
from the first publish to the last line stored, lines per second end to end, the
peak memory of each process, and the ratio to the seed study's one line per second.

    cd bench && ../.venv/bin/python replay.py [--dir DIR] [--master URL]

DIR defaults to the shared Kaggle folder beside the repository; URL (a Spark master)
to POS_SPARK_MASTER, `local[*]`. `cluster.py` runs it on `local[2]` and on a two-worker
Spark standalone cluster.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from common import MemorySampler, bench_settings, machine, start_stream
from pymongo import MongoClient
from sqlalchemy import func, select

from pos_app.db.engine import make_sync_engine
from pos_app.db.tables import sales
from pos_app.imports import kaggle
from pos_app.imports.load import publish, save_products
from pos_app.settings import REPO_ROOT, Settings
from stack.processes import ProcessFiles, stop
from stream_jobs.sinks import stored_count

STORE = "kaggle-2019"


@dataclass
class Figures:
    master: str
    lines: int
    sales: int
    seconds: float
    mysql_seconds: float  # first publish to the last line in MySQL
    peak_mib: float  # every watched process at its peak, summed
    settings: Settings  # the scratch shop, for what a benchmark does next (rebuild.py)


def default_dir() -> str:
    return str(REPO_ROOT.parent / "shared" / "datasets" / "kaggle-sales-2019")


def replay(
    folder: Path, *, master: str | None = None, watch: dict[str, ProcessFiles] | None = None
) -> Figures:
    """Replay the year through a fresh scratch shop; return the figures (and print them)."""
    report = kaggle.read_dir(folder)
    if report.failed:
        raise SystemExit("cannot replay: " + "; ".join(report.failed))
    events = kaggle.sale_events(report.lines, store_id=STORE)
    settings = bench_settings(**({"spark_master": master} if master else {}))
    save_products(
        settings, kaggle.products(report.lines), store_id=STORE, category="Electronics", stock={}
    )
    stream = start_stream(settings)
    memory = MemorySampler(settings, {"stream job (python + JVM)": stream, **(watch or {})})
    memory.start()
    engine = make_sync_engine(settings)
    mongo: MongoClient[dict[str, object]] = MongoClient(settings.mongo_url)
    raw_store = mongo[settings.mongo_database]
    try:
        started = time.time()
        publish_seconds = asyncio.run(publish(settings, events, rate=None))
        print(f"published {len(events):,} sales in {publish_seconds:.1f} s; waiting ...")
        lines = 0
        while lines < len(report.lines):
            time.sleep(2)
            with engine.connect() as conn:
                lines = int(conn.scalar(select(func.count()).select_from(sales)) or 0)
            print(f"  MySQL: {lines:,}/{len(report.lines):,} lines", flush=True)
        # The last line's own stamp, not the moment our polling noticed it.
        with engine.connect() as conn:
            last_line = select(func.unix_timestamp(func.max(sales.c.processed_at)))
            mysql_done = float(conn.scalar(last_line) or 0)
        # The raw copy runs beside MySQL; its count comes from the collection's stats.
        while stored_count(raw_store, "raw_events") < len(events):
            time.sleep(1)
        mongo_done = time.time()
        seconds = max(mysql_done, mongo_done) - started
        mysql_seconds = mysql_done - started
    finally:
        memory.stop()
        stop(stream)
        engine.dispose()
        mongo.close()

    print(f"\n\nreplay benchmark, {datetime.now():%Y-%m-%d %H:%M}; machine: {machine()}")
    print(f"Spark master: {settings.spark_master}")
    print(f"{len(report.lines):,} lines in {len(events):,} sales, stored in MySQL and MongoDB")
    print(f"{seconds:.1f} s from the first publish to the last line stored")
    print(f"{mysql_seconds:.1f} s from the first publish to the last line in MySQL")
    print(
        f"{len(report.lines) / seconds:,.0f} lines/s end to end, "
        f"{len(report.lines) / seconds:,.0f}x the seed's 1 line/s"
    )
    print(memory.report())
    peak = sum(memory.peak.values()) / 1024
    return Figures(
        settings.spark_master,
        len(report.lines),
        len(events),
        seconds,
        mysql_seconds,
        peak,
        settings,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=default_dir())
    parser.add_argument("--master", help="Spark master URL (default: POS_SPARK_MASTER)")
    args = parser.parse_args()
    replay(Path(args.dir), master=args.master)


if __name__ == "__main__":
    main()
