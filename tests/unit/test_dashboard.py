"""The Grafana dashboard (docs/grafana-dashboard.json) asks only for metrics that exist."""

from __future__ import annotations

import json
import re

from prometheus_client.registry import REGISTRY

import pos_app.observability.metrics  # noqa: F401  (registers the app's metrics)
import stream_jobs.metrics  # noqa: F401  (and the stream job's)
from pos_app.observability.metrics import PipelineSnapshot
from pos_app.settings import REPO_ROOT


def test_every_metric_the_dashboard_queries_exists() -> None:
    dashboard = json.loads((REPO_ROOT / "docs" / "grafana-dashboard.json").read_text())
    queried = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\bpos_[a-z_]+", target["expr"])
    }
    snapshot = PipelineSnapshot(
        {
            "pending": 1,
            "oldest_pending_age": 1.0,
            "batches": 1,
            "applied": 1,
            "rejected": 0,
            "last_batch_age": 1.0,
            "newest_applied_age": 1.0,
        }
    )
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum")}
    exposed = {
        family.name + suffix
        for family in [*REGISTRY.collect(), *snapshot.collect()]
        for suffix in suffixes.get(family.type, ("",))
    }
    assert queried, "the dashboard queries nothing"
    assert queried <= exposed, sorted(queried - exposed)
