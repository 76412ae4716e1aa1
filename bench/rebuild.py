"""Benchmark: rebuild every processed table from the raw events after the Kaggle year.

Replays the Kaggle year (185,686 lines) through the streaming pipeline into a fresh
bench shop (as replay.py does, timed), then runs `posctl rebuild` on it, from MongoDB
and from Kafka, timing each and sampling the memory of the rebuild (python + JVM).
Each rebuild also checks itself: the rebuilt tables must equal what the stream wrote.

    cd bench && ../.venv/bin/python rebuild.py [--dir DIR] [--source mongo|kafka|both]
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from datetime import datetime
from pathlib import Path

from common import machine, rss_kib
from replay import default_dir, replay

from stream_jobs.rebuild import Outcome, Source, rebuild


def peak_rss_while(action: threading.Thread) -> int:
    """Peak resident memory (KiB) of this process and its children (the JVM)."""
    peak = 0
    action.start()
    while action.is_alive():
        peak = max(peak, rss_kib(os.getpid()))
        time.sleep(0.5)
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=default_dir())
    parser.add_argument("--source", choices=["mongo", "kafka", "both"], default="both")
    args = parser.parse_args()
    streaming = replay(Path(args.dir))
    settings, lines, events = streaming.settings, streaming.lines, streaming.sales
    streamed = streaming.seconds
    print(f"streaming replay: {lines:,} lines in {streamed:.1f} s", flush=True)

    sources: list[Source] = ["mongo", "kafka"] if args.source == "both" else [args.source]
    results = []
    for source in sources:
        done: list[Outcome] = []
        worker = threading.Thread(
            target=lambda s=source, out=done: out.append(rebuild(settings, source=s))
        )
        started = time.monotonic()
        peak = peak_rss_while(worker)
        seconds = time.monotonic() - started
        if not done:
            raise SystemExit(f"the rebuild from {source} failed (see above)")
        differences = len(done[0].differences)
        results.append((source, seconds, peak, differences))
        print(f"rebuild from {source}: {seconds:.1f} s, {differences} rows differed", flush=True)

    print(f"\n\nrebuild benchmark, {datetime.now():%Y-%m-%d %H:%M}; machine: {machine()}")
    print(f"{lines:,} lines in {events:,} sales")
    print(f"streaming replay (publish to last line stored): {streamed:.1f} s")
    for source, seconds, peak, differences in results:
        print(
            f"rebuild from {source:5}: {seconds:6.1f} s ({lines / seconds:,.0f} lines/s, "
            f"{seconds / streamed:.2f}x the replay's time), peak memory {peak / 1024:,.0f} MiB "
            f"(python + JVM); rows that differed from the streamed tables: {differences}"
        )


if __name__ == "__main__":
    main()
