"""The stream job's own Prometheus exposition (POS_STREAM_METRICS_PORT, on loopback; 0
leaves it off): how long each micro-batch takes and what it did. The app's /metrics
reads the rest of the pipeline's state from MySQL."""

from __future__ import annotations

import logging

from prometheus_client import Counter, Histogram, start_http_server

from pos_app.settings import Settings

log = logging.getLogger("pos.stream")

BATCH_SECONDS = Histogram(
    "pos_stream_batch_duration_seconds",
    "Time to classify and apply one micro-batch (Spark, MySQL, MongoDB)",
    ["query"],
    buckets=(0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0),
)
BATCH_EVENTS = Counter(
    "pos_stream_batch_events",
    "Events in the micro-batches, by outcome (applied, duplicate, rejected)",
    ["query", "outcome"],
)


def serve_metrics(settings: Settings) -> None:
    if not settings.stream_metrics_port:
        return
    try:
        start_http_server(settings.stream_metrics_port, addr="127.0.0.1")
    except OSError as error:  # the port taken: the pipeline matters more than its figures
        log.error("stream metrics not served on port %s: %s", settings.stream_metrics_port, error)
        return
    log.info("stream metrics on 127.0.0.1:%s/metrics", settings.stream_metrics_port)
