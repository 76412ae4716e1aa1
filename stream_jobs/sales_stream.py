"""The stream job: Kafka `<prefix>.sales.v1` (sales, returns) and `<prefix>.inventory.v1`
(goods received, adjustments) -> MongoDB (raw and rejected events) and MySQL (sale lines,
returns, stock movements, stocks, sales by period, reorder-point alerts), exactly once.

Two streaming queries read the same topics, so neither store waits for the other (a
slow or stopped MongoDB does not hold the MySQL tables back, nor the reverse):

- `sales_stream` applies the events to MySQL (its exactly-once rule: `processed_events`);
- `raw_events_copy` keeps every valid event as received in MongoDB, and the rejected
  ones with their reason (its rule: documents keyed by event id, one event a document).

Each has its own checkpoint, where Spark keeps its Kafka offsets; each micro-batch is
written with idempotent writes (see sinks.py), so a batch replayed after a crash
changes nothing. The classification is part of both streaming plans, analysed once when
the query starts; only the catalogue's answer (`catalogue.py`) is asked per batch.

Run it with `posctl stream` (`--master spark://host:7077` for a cluster; the default is
POS_SPARK_MASTER, `local[*]`), which restarts it if it fails, or on its own with
`python -m stream_jobs.sales_stream`.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame, Row, SparkSession
from pyspark.sql.streaming.query import StreamingQuery

from pos_app.contract import STREAM_QUERY_NAME
from pos_app.observability.logs import configure_logging
from pos_app.settings import REPO_ROOT, Settings, get_settings
from stream_jobs import catalogue
from stream_jobs.metrics import BATCH_EVENTS, BATCH_SECONDS, serve_metrics
from stream_jobs.sinks import Sinks
from stream_jobs.transform import classify, movement_rows, sale_line_rows

RAW_COPY_QUERY_NAME = "raw_events_copy"

RECORD_COLUMNS = (
    "value",
    "kafka_topic",
    "kafka_partition",
    "kafka_offset",
    "kafka_timestamp",
    "reason",
    "event_id",
    "event_type",
    "document_id",
    "sale_id",
    "request_id",
    "line_checks",
)

log = logging.getLogger("pos.stream")


def stream_cpu_set(spec: str, available: set[int]) -> set[int]:
    """The CPUs `stream_cpus` names, out of those this process may use."""
    spec = spec.strip().lower()
    if spec == "all":
        return set(available)
    if spec == "auto":
        return available - {min(available)} if len(available) > 1 else set(available)
    wanted: set[int] = set()
    for part in spec.split(","):
        first, _, last = part.strip().partition("-")
        if not first.isdigit() or (last and not last.isdigit()):
            raise ValueError(f"stream_cpus: {spec!r} is not 'auto', 'all' or a list like 1-3,5")
        wanted.update(range(int(first), int(last or first) + 1))
    chosen = wanted & available
    if not chosen:
        raise ValueError(f"stream_cpus: none of {spec!r} is available (have {sorted(available)})")
    return chosen


def keep_to_stream_cpus(settings: Settings) -> None:
    """Keep this process, and the Spark JVM it starts (which inherits it), to the CPUs
    `stream_cpus` allows; with "auto" the counter's requests find a core free."""
    if not hasattr(os, "sched_setaffinity"):
        return  # not Linux: nothing to pin
    cpus = stream_cpu_set(settings.stream_cpus, os.sched_getaffinity(0))
    os.sched_setaffinity(0, cpus)
    log.info("stream job on CPUs %s", ",".join(map(str, sorted(cpus))))


class MissingJars(RuntimeError):
    """The Kafka connector jars are not where `posctl stack install` puts them."""


def spark_jars(settings: Settings) -> list[str]:
    """The connector jars for spark.jars: resolved by `posctl stack install` (the image
    ships them); the runtime does not fetch anything itself."""
    folder = settings.jar_dir("spark")
    jars = sorted(str(p) for p in folder.glob("*.jar"))
    if not jars:
        raise MissingJars(f"no Spark connector jars in {folder}; run `posctl stack install`")
    return jars


def executor_settings() -> dict[str, str]:
    """Spark settings for a job on a standalone cluster: its executors' Python workers (if
    a stage ever needs one) find this project and its virtual environment."""
    path = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {
        "spark.executorEnv.PYTHONPATH": path,
        "spark.pyspark.python": sys.executable,
        "spark.executor.memory": "768m",
    }


def build_spark(settings: Settings, app_name: str = "pos-sales-stream") -> SparkSession:
    # Spark would otherwise bind to the machine's outside interface.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    local_dir = settings.state_dir / "tmp" / "spark"
    local_dir.mkdir(parents=True, exist_ok=True)
    # Loopback unless executors elsewhere (containers) must reach the driver by name.
    bind = "127.0.0.1" if settings.spark_driver_host == "127.0.0.1" else "0.0.0.0"
    builder = (
        SparkSession.builder.master(settings.spark_master)
        .appName(app_name)
        .config("spark.jars", ",".join(spark_jars(settings)))
        .config("spark.driver.memory", settings.spark_driver_memory)
        .config("spark.driver.bindAddress", bind)
        .config("spark.driver.host", settings.spark_driver_host)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.local.dir", str(local_dir))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.locality.wait", "0s")
        .config("spark.sql.streaming.minBatchesToRetain", "20")
    )
    if settings.spark_master.startswith("spark://"):
        # On a standalone cluster the connector jars reach the executors through spark.jars
        # (served by the driver); Python workers, if a stage needs one, find the project.
        for key, value in executor_settings().items():
            builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark


@dataclass
class ClassifiedBatch:
    valid: list[dict[str, Any]]  # usable events, each with its Kafka position
    rejected: list[dict[str, Any]]  # unusable records, each with its reason
    lines: list[dict[str, Any]]  # the valid sales' lines, shaped like `sales`
    movements: list[dict[str, Any]]  # the valid returns', receipts' and adjustments' lines


def with_lines(records: DataFrame) -> DataFrame:
    """Kafka-shaped records (value, topic, partition, offset, timestamp), classified, with
    the lines the MySQL apply needs: what one micro-batch collects in one Spark job."""
    return classify(records).select(
        *RECORD_COLUMNS, sale_line_rows().alias("lines"), movement_rows().alias("movements")
    )


def without_lines(records: DataFrame) -> DataFrame:
    """The same records classified, for the raw copy (it stores the JSON as received)."""
    return classify(records).select(*RECORD_COLUMNS)


def split(rows: list[Row], known: catalogue.KnownSkus) -> ClassifiedBatch:
    """Collected rows of `with_lines` or `without_lines` to what the sinks apply."""
    records = catalogue.judge([row.asDict() for row in rows], known)
    valid = [r for r in records if r["reason"] is None]
    return ClassifiedBatch(
        valid=valid,
        rejected=[r for r in records if r["reason"] is not None],
        lines=[line.asDict() for r in valid for line in (r.pop("lines", None) or [])],
        movements=[m.asDict() for r in valid for m in (r.pop("movements", None) or [])],
    )


def classify_batch(sinks: Sinks, batch: DataFrame) -> ClassifiedBatch:
    """Kafka-shaped records to what the sinks apply (the rebuild's way in)."""
    return split(with_lines(batch).collect(), sinks.known_skus)


def apply_to_mysql(sinks: Sinks, batch: DataFrame, batch_id: int) -> None:
    """One micro-batch of `with_lines` into MySQL. The records it rejects are the raw
    copy's to store; only the rules' refusals (an impossible return, say) are stored
    here, after the commit and idempotently, so a replay writes them again if need be."""
    started = time.monotonic()
    found = split(batch.collect(), sinks.known_skus)
    if not found.valid:
        return
    spark_done = time.monotonic()
    result, refused = sinks.apply(batch_id, found.valid, found.lines, found.movements)
    mysql_done = time.monotonic()
    sinks.store_rejected(refused)
    BATCH_SECONDS.labels(sinks.query_name).observe(mysql_done - started)
    for outcome, count in (
        ("applied", result.applied),
        ("duplicate", result.duplicate),
        ("rejected", result.rejected),
    ):
        BATCH_EVENTS.labels(sinks.query_name, outcome).inc(count)
    log.info(
        "batch %s: %s applied, %s duplicate, %s refused, %s lines in %.2f s "
        "(spark %.2f, mysql %.2f)",
        batch_id,
        result.applied,
        result.duplicate,
        result.rejected,
        result.lines,
        mysql_done - started,
        spark_done - started,
        mysql_done - spark_done,
        extra={
            "batch_id": batch_id,
            "query": sinks.query_name,
            "applied": result.applied,
            "duplicate": result.duplicate,
            "rejected": result.rejected,
            "duration_s": round(mysql_done - started, 3),
            # The requests whose events this batch applied, to follow a sale end to end.
            "request_ids": sorted(
                {r["request_id"] for r in found.valid if r.get("request_id")}
                - {r.get("request_id") for r in refused}
            ),
        },
    )


def copy_raw(sinks: Sinks, batch: DataFrame, batch_id: int) -> None:
    """One micro-batch of `without_lines` into MongoDB: the valid events as received, the
    rejected ones with their reason."""
    started = time.monotonic()
    sinks.ensure_indexes()
    found = split(batch.collect(), sinks.known_skus)
    if not found.valid and not found.rejected:
        return
    spark_done = time.monotonic()
    refused = sinks.store_raw(found.valid)
    sinks.store_rejected(found.rejected + refused)
    finished = time.monotonic()
    stored, rejected = len(found.valid) - len(refused), len(found.rejected) + len(refused)
    BATCH_SECONDS.labels(sinks.query_name).observe(finished - started)
    BATCH_EVENTS.labels(sinks.query_name, "applied").inc(stored)
    BATCH_EVENTS.labels(sinks.query_name, "rejected").inc(rejected)
    log.info(
        "raw batch %s: %s events, %s rejected in %.2f s (spark %.2f, mongodb %.2f)",
        batch_id,
        stored,
        rejected,
        finished - started,
        spark_done - started,
        finished - spark_done,
        extra={
            "batch_id": batch_id,
            "query": sinks.query_name,
            "applied": stored,
            "rejected": rejected,
            "duration_s": round(finished - started, 3),
        },
    )


def start_query(
    spark: SparkSession,
    settings: Settings,
    name: str,
    shape: Callable[[DataFrame], DataFrame],
    write: Callable[[DataFrame, int], None],
    trigger_seconds: float,
) -> StreamingQuery:
    """A streaming query over both topics, with its own checkpoint."""
    records = (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", settings.kafka_bootstrap_servers)
        .option("subscribe", f"{settings.sales_topic},{settings.inventory_topic}")
        .option("startingOffsets", "earliest")
        .option("maxOffsetsPerTrigger", settings.stream_max_offsets_per_trigger)
        .option("kafka.fetch.max.wait.ms", str(settings.stream_fetch_wait_ms))
        .load()
    )
    writer = (
        shape(records)
        .writeStream.queryName(name)
        .option("checkpointLocation", str(settings.checkpoint_dir / name))
        .foreachBatch(write)
    )
    if trigger_seconds > 0:
        writer = writer.trigger(processingTime=f"{trigger_seconds} seconds")
    return writer.start()


def run(settings: Settings) -> None:
    configure_logging()
    keep_to_stream_cpus(settings)
    spark = build_spark(settings)
    mysql_sinks = Sinks(settings, query_name=STREAM_QUERY_NAME)
    raw_sinks = Sinks(settings, query_name=RAW_COPY_QUERY_NAME)
    serve_metrics(settings)
    start_query(
        spark,
        settings,
        STREAM_QUERY_NAME,
        with_lines,
        lambda batch, batch_id: apply_to_mysql(mysql_sinks, batch, batch_id),
        settings.stream_trigger_seconds,
    )
    start_query(
        spark,
        settings,
        RAW_COPY_QUERY_NAME,
        without_lines,
        lambda batch, batch_id: copy_raw(raw_sinks, batch, batch_id),
        settings.stream_raw_trigger_seconds,
    )
    log.info(
        "stream job running: %s, %s -> MySQL %s, MongoDB %s; checkpoint %s",
        settings.sales_topic,
        settings.inventory_topic,
        settings.mysql_database,
        settings.mongo_database,
        settings.checkpoint_dir,
    )
    try:
        # Either query failing ends the job; the supervisor starts both again.
        spark.streams.awaitAnyTermination()
    finally:
        for query in spark.streams.active:
            query.stop()
        mysql_sinks.close()
        raw_sinks.close()
        spark.stop()


if __name__ == "__main__":
    run(get_settings())
