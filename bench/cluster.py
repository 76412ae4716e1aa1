"""Benchmark: the Kaggle year replayed with the stream job on `local[2]` and on a Spark
standalone cluster of two one-core workers (started here from pyspark's jars, stopped
after), one after the other on the running stack. On a two-core machine the figures are
close: the point is that both work, with the same code, and what each costs.

    cd bench && ../.venv/bin/python cluster.py [--dir DIR] [--port 7177]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from replay import default_dir, replay

from pos_app.settings import Settings
from stack import spark_cluster
from stack.processes import ProcessFiles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=default_dir())
    parser.add_argument("--port", type=int, default=7177, help="the Spark master's port")
    args = parser.parse_args()
    settings = Settings()
    results = [replay(Path(args.dir), master="local[2]")]
    url = spark_cluster.up(settings, workers=2, port=args.port)
    try:
        # The master and workers (with their executors) count in the memory figures.
        daemons = {
            name: ProcessFiles(settings.state_dir, name)
            for name in [spark_cluster.MASTER, *spark_cluster.worker_names(settings)]
        }
        results.append(replay(Path(args.dir), master=url, watch=daemons))
    finally:
        spark_cluster.down(settings)
    print("\n\nmaster                       seconds   lines/s   sales/s   peak MiB (all processes)")
    for r in results:
        print(
            f"{r.master:28} {r.seconds:7.1f}   {r.lines / r.seconds:7,.0f}"
            f"   {r.sales / r.seconds:7,.0f}   {r.peak_mib:8,.0f}"
        )


if __name__ == "__main__":
    main()
