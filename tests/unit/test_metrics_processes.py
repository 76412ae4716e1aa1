"""Several app processes (uvicorn workers) count apart; with PROMETHEUS_MULTIPROC_DIR set,
any one of them answers /metrics with the sum of all."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

COUNT_A_SALE = "from pos_app.observability.metrics import SALES; SALES.inc()"
SCRAPE = """
import sys
from pos_app.observability.metrics import PipelineSnapshot, exposition
figures = dict(pending=0, oldest_pending_age=None, batches=0, applied=0, rejected=0,
               last_batch_age=None, newest_applied_age=None)
sys.stdout.write(exposition(PipelineSnapshot(figures)).decode())
"""


def test_each_workers_sales_add_up(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(3):  # three workers, one sale each
        subprocess.run([sys.executable, "-c", COUNT_A_SALE], env=env, check=True)
    scraped = subprocess.run(
        [sys.executable, "-c", SCRAPE], env=env, check=True, capture_output=True, text=True
    ).stdout
    samples = {
        sample.name: sample.value
        for family in text_string_to_metric_families(scraped)
        for sample in family.samples
    }
    assert samples["pos_sales_total"] == 3
    assert samples["pos_outbox_pending"] == 0
