"""Prometheus metrics of the app, served at GET /metrics (events:read, as /health).

Counted in this process as things happen: requests by route template (rate, latency,
status), sales and refunds committed. Read from MySQL at each scrape: the outbox backlog
and the age of its oldest row, the stream job's progress from its ledger
(`stream_batches`: batches, events applied and rejected, the last commit's age) and the
stream lag (the age of the newest event the stream job has applied). The stream job's
micro-batch durations are in its own exposition (POS_STREAM_METRICS_PORT).

Several app processes (uvicorn workers) each count their own: with
PROMETHEUS_MULTIPROC_DIR set to an empty folder before they start, prometheus_client
adds them up at the scrape (docs/operations.md); without it, one process is assumed."""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import REGISTRY, Collector
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.db.tables import stream_batches
from pos_app.events import outbox

REQUESTS = Counter(
    "pos_http_requests",
    "HTTP requests answered, by method, route template and status",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "pos_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SALES = Counter("pos_sales", "Sales recorded (committed with their event)")
REFUNDS = Counter("pos_refunds", "Returns recorded (committed with their event)")

# The newest outbox row the stream job has applied, found from the newest row back.
_NEWEST_APPLIED_AGE = text(
    "SELECT TIMESTAMPDIFF(MICROSECOND, o.created_at, CURRENT_TIMESTAMP(3)) FROM outbox o "
    "WHERE EXISTS (SELECT 1 FROM processed_events p WHERE p.event_id = o.event_id) "
    "ORDER BY o.id DESC LIMIT 1"
)


class PipelineSnapshot(Collector):
    """The pipeline's state as read from MySQL for one scrape."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def collect(self) -> list[Metric]:
        v = self.values
        metrics: list[Metric] = [
            GaugeMetricFamily(
                "pos_outbox_pending", "Events in the outbox not yet published", v["pending"]
            ),
            CounterMetricFamily(
                "pos_stream_batches", "Micro-batches the stream job committed", v["batches"]
            ),
            CounterMetricFamily(
                "pos_stream_events_applied", "Events the stream job applied", v["applied"]
            ),
            CounterMetricFamily(
                "pos_stream_events_rejected",
                "Events the stream job rejected (see /api/v1/events/rejected)",
                v["rejected"],
            ),
        ]
        optional = {
            "pos_outbox_oldest_pending_age_seconds": (
                "Age of the oldest unpublished outbox event (absent: none waiting)",
                v["oldest_pending_age"],
            ),
            "pos_stream_last_batch_age_seconds": (
                "Time since the stream job last committed a micro-batch",
                v["last_batch_age"],
            ),
            "pos_stream_lag_seconds": (
                "Age of the newest event the stream job has applied",
                v["newest_applied_age"],
            ),
        }
        for name, (doc, value) in optional.items():
            if value is not None:
                metrics.append(GaugeMetricFamily(name, doc, value))
        return metrics


def _seconds(microseconds: Any) -> float | None:
    return int(microseconds) / 1e6 if microseconds is not None else None


async def pipeline_snapshot(conn: AsyncConnection) -> PipelineSnapshot:
    waiting = await outbox.status(conn)
    last_batch_age = func.timestampdiff(
        text("MICROSECOND"), func.max(stream_batches.c.committed_at), text("CURRENT_TIMESTAMP(3)")
    )
    ledger: Any = (
        await conn.execute(
            select(
                func.count(),
                func.coalesce(func.sum(stream_batches.c.events_applied), 0),
                func.coalesce(func.sum(stream_batches.c.events_rejected), 0),
                last_batch_age,
            )
        )
    ).one()
    newest = await conn.scalar(_NEWEST_APPLIED_AGE)
    return PipelineSnapshot(
        {
            "pending": waiting.pending,
            "oldest_pending_age": waiting.oldest_pending_age_seconds,
            "batches": int(ledger[0]),
            "applied": int(ledger[1]),
            "rejected": int(ledger[2]),
            "last_batch_age": _seconds(ledger[3]),
            "newest_applied_age": _seconds(newest),
        }
    )


def exposition(snapshot: PipelineSnapshot) -> bytes:
    """This process's (or, in multiprocess mode, every worker's) metrics and the snapshot,
    in the text format."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted)  # type: ignore[no-untyped-call]
    else:
        counted = REGISTRY
    read = CollectorRegistry(auto_describe=False)
    read.register(snapshot)
    return generate_latest(counted) + generate_latest(read)
