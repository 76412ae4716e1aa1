"""Rebuild every processed MySQL table from the raw events, and verify the live ones.

The second driver of the stream job's code: the same `classify_batch` (Spark) and the
same `Sinks.apply` (MySQL), fed from MongoDB's `raw_events` (or the Kafka topics) in
batches instead of from a live Kafka stream. How it stays exact while the shop sells:

1. Replay the raw events into fresh tables in a scratch database (`<db>_rebuild`). The
   stream job keeps applying new sales to the live tables meanwhile.
2. Take the apply lock (`sinks.apply_lock_name`): the stream job's next MySQL write waits
   for it, so the live tables stop moving (sales still queue up in the outbox and Kafka).
3. Catch up: the events in the live `processed_events` that the replay did not see (they
   arrived during step 1) are read from MongoDB and applied to the scratch tables.
4. Compare scratch with live, in MariaDB (that is `verify`), then, unless it is a dry run,
   swap every rebuilt table in with one `RENAME TABLE` (atomic: readers see the old tables
   or the new ones, never half of either), and release the lock. The job goes on with the
   new tables; an event it applies later is one neither side had.

Opening stock is not an event: it comes from the live `stocks` rows (or, if that table
is gone, from the catalog's opening stock). `stock_alerts` (with their acknowledgements)
and the job's batch ledger are history, not recomputed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from pymongo import MongoClient
from pyspark.sql import SparkSession
from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Engine,
    ForeignKeyConstraint,
    LargeBinary,
    MetaData,
    String,
    Table,
    and_,
    cast,
    func,
    inspect,
    or_,
    select,
    text,
)

from pos_app.contract import RAW_EVENTS_COLLECTION
from pos_app.db.engine import make_sync_engine
from pos_app.db.tables import (
    processed_events,
    product_monthly_sales,
    products,
    sale_documents,
    sale_payments,
    sale_returns,
    sale_totals,
    sales,
    sales_daily,
    sales_monthly,
    sales_yearly,
    stock_alerts,
    stock_movements,
    stocks,
    stream_batches,
)
from pos_app.settings import Settings
from stream_jobs.sales_stream import ClassifiedBatch, build_spark, classify_batch
from stream_jobs.sinks import Sinks, apply_lock_name

Source = Literal["mongo", "kafka"]
BATCH_EVENTS = 20_000
# The tables the stream job computes from events, in the order they are swapped.
REBUILT: tuple[Table, ...] = (
    sales,
    sale_returns,
    sale_documents,
    sale_payments,
    sale_totals,
    stock_movements,
    stocks,
    sales_daily,
    sales_monthly,
    sales_yearly,
    product_monthly_sales,
    processed_events,
)
REBUILT_ORDER = {table.name: n for n, table in enumerate(REBUILT)}
# Columns that say when or in which batch a row was written, not what it holds.
NOT_COMPARED = {"updated_at", "processed_at", "batch_id"}
RECORD_SCHEMA = "value string, topic string, partition int, offset long, timestamp timestamp"


@dataclass(frozen=True)
class Difference:
    table: str
    key: tuple[Any, ...]
    expected: dict[str, Any] | None  # recomputed from the raw events
    found: dict[str, Any] | None  # in the live table

    def __str__(self) -> str:
        return f"{self.table} {self.key}: expected {self.expected}, found {self.found}"


class Stages:
    """Seconds spent in each stage of a rebuild, for the one line it logs at the end."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + time.monotonic() - started

    def __str__(self) -> str:
        return ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in self.seconds.items())


@dataclass
class Outcome:
    events: int
    caught_up: int
    differences: list[Difference]
    swapped: bool
    seconds: float


def rebuild(
    settings: Settings,
    *,
    source: Source = "mongo",
    store: str | None = None,
    dry_run: bool = False,
    log: Callable[[str], None] = print,
) -> Outcome:
    started = time.monotonic()
    stages = Stages()
    scratch = settings.model_copy(update={"mysql_database": f"{settings.mysql_database}_rebuild"})
    live_engine = make_sync_engine(settings)
    scratch_engine = make_sync_engine(scratch)
    # A rebuild fails rather than waits for ever on a database that stays away.
    sinks = Sinks(scratch, query_name="rebuild", give_up_after=120)
    spark: SparkSession | None = None
    reader = ThreadPoolExecutor(max_workers=1)
    try:
        # The raw read is the longest stage (FerretDB serves it with one cursor): it runs
        # while Spark starts and the scratch tables are made.
        reading = reader.submit(_read_raw, settings, store, stages) if source == "mongo" else None
        with stages("start spark"):
            spark = build_spark(settings, app_name="pos-rebuild")
        with stages("prepare"):
            present = _prepare_scratch(live_engine, settings, scratch, store)
        log(f"rebuild: scratch database {scratch.mysql_database} ready")
        with stages("wait for the read" if reading else "read"):
            records = reading.result() if reading else _kafka_records(spark, settings, store)
        with stages("sort"):
            records = _in_received_order(records)
        events = 0
        for applied in _classify_and_apply(spark, sinks, _chunks(records), stages):
            events += applied
            log(f"rebuild: {events:,} events applied ({time.monotonic() - started:.0f} s)")
        with _apply_paused(live_engine, settings.mysql_database):
            with stages("catch up"):
                caught_up = _catch_up(spark, sinks, live_engine, scratch_engine, settings, store)
            if caught_up:
                log(f"rebuild: caught up {caught_up} events that arrived meanwhile")
            if store is not None:
                _copy_other_stores(live_engine, settings, scratch, store, present)
            with stages("compare"):
                differences = compare(
                    live_engine, scratch.mysql_database, settings.mysql_database, present
                )
            swapped = False
            if not dry_run:
                with stages("swap"):
                    _swap(live_engine, settings, scratch, present)
                swapped = True
        log(f"rebuild: time by stage: {stages}")
        return Outcome(events, caught_up, differences, swapped, time.monotonic() - started)
    finally:
        reader.shutdown(cancel_futures=True)
        sinks.close()
        if spark is not None:
            spark.stop()
        with live_engine.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{scratch.mysql_database}`"))
        live_engine.dispose()
        scratch_engine.dispose()


# --- the scratch database ----------------------------------------------------------------


def _prepare_scratch(
    live: Engine, settings: Settings, scratch: Settings, store: str | None
) -> set[str]:
    """Empty copies of the processed tables (same columns and indexes), the catalog, and
    the opening stock; returns the names of the processed tables that exist live."""
    live_db, db = settings.mysql_database, scratch.mysql_database
    present = set(inspect(live).get_table_names()) & {t.name for t in REBUILT}
    with live.begin() as conn:
        # The live database's collation, so joins between copied and recreated tables work.
        charset, collation = conn.execute(
            text(
                "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME "
                "FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = :db"
            ),
            {"db": live_db},
        ).one()
        conn.execute(text(f"DROP DATABASE IF EXISTS `{db}`"))
        conn.execute(text(f"CREATE DATABASE `{db}` CHARACTER SET {charset} COLLATE {collation}"))
        # The job also writes its ledger and alerts: the scratch copies take and drop them.
        kept = (products, stream_batches, stock_alerts)
        for table in (*REBUILT, *kept):
            if table.name in present or table in kept:
                like = f"`{live_db}`.`{table.name}`"
                conn.execute(text(f"CREATE TABLE `{db}`.`{table.name}` LIKE {like}"))
            else:  # gone from the live database: create it from the model
                _without_foreign_keys(table, db).create(conn)
        conn.execute(text(f"INSERT INTO `{db}`.products SELECT * FROM `{live_db}`.products"))
        if "stocks" in present:
            opening = (
                f"SELECT store_id, sku, stock_quantity, 0, 0, 0, 0, stock_quantity, "
                f"CURRENT_TIMESTAMP(3) FROM `{live_db}`.stocks"
            )
            if store is not None:
                opening += " WHERE store_id = :store"
        else:
            opening = (
                f"SELECT :default_store, sku, opening_stock, 0, 0, 0, 0, opening_stock, "
                f"CURRENT_TIMESTAMP(3) FROM `{live_db}`.products"
            )
        conn.execute(
            text(
                f"INSERT INTO `{db}`.stocks (store_id, sku, stock_quantity, total_sold, "
                f"total_received, total_returned, total_adjusted, on_hand, updated_at) {opening}"
            ),
            {"store": store, "default_store": settings.store_id},
        )
    return present


def _without_foreign_keys(table: Table, schema: str) -> Table:
    """The table in another schema, without foreign keys (like CREATE TABLE ... LIKE):
    a key into the scratch database would follow the table when it is swapped in."""
    copy = table.to_metadata(MetaData(), schema=schema)
    for constraint in list(copy.constraints):
        if isinstance(constraint, ForeignKeyConstraint):
            copy.constraints.remove(constraint)
    return copy


# --- reading the raw events ------------------------------------------------------------


def _read_raw(settings: Settings, store: str | None, stages: Stages) -> list[tuple[Any, ...]]:
    with stages("read"):
        return _mongo_records(settings, store, ids=None)


def _chunks(records: Sequence[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    for start in range(0, len(records), BATCH_EVENTS):
        yield list(records[start : start + BATCH_EVENTS])


def _mongo_records(
    settings: Settings, store: str | None, ids: set[str] | None
) -> list[tuple[Any, ...]]:
    query: dict[str, Any] = {}
    if store is not None:
        query["event.store_id"] = store
    if ids is not None:
        query["_id"] = {"$in": sorted(ids)}
    client: MongoClient[dict[str, Any]] = MongoClient(settings.mongo_url)
    with client:
        documents = client[settings.mongo_database][RAW_EVENTS_COLLECTION].find(
            query, {"event": 1, "received_at": 1, "kafka": 1}, batch_size=10_000
        )
        return [
            (
                json.dumps(doc["event"]),
                doc["kafka"]["topic"],
                doc["kafka"]["partition"],
                doc["kafka"]["offset"],
                doc["received_at"],
            )
            for doc in documents
        ]


def _in_received_order(records: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Received order; within a partition, offset order (a return after its sale)."""
    return sorted(records, key=lambda r: (r[4], r[1], r[2], r[3]))


def _kafka_records(
    spark: SparkSession, settings: Settings, store: str | None
) -> list[tuple[Any, ...]]:
    frame = (
        spark.read.format("kafka")
        .option("kafka.bootstrap.servers", settings.kafka_bootstrap_servers)
        .option("subscribe", f"{settings.sales_topic},{settings.inventory_topic}")
        .option("startingOffsets", "earliest")
        .option("endingOffsets", "latest")
        .load()
        .selectExpr("CAST(value AS STRING) AS value", "topic", "partition", "offset", "timestamp")
    )
    records = [tuple(row) for row in frame.collect()]
    if store is not None:
        records = [r for r in records if _store_of(r[0]) == store]
    return records


def _store_of(value: str | None) -> str | None:
    try:
        event = json.loads(value or "")
    except ValueError:
        return None
    return event.get("store_id") if isinstance(event, dict) else None


def _classify_and_apply(
    spark: SparkSession,
    sinks: Sinks,
    batches: Iterable[list[tuple[Any, ...]]],
    stages: Stages,
    first_batch_id: int = 0,
) -> Iterator[int]:
    """Apply the batches in order, each while Spark classifies the next one (the JVM and
    MariaDB work at once); yields the events each batch applied."""
    with ThreadPoolExecutor(max_workers=1) as mysql:
        applying: Future[int] | None = None
        for batch_id, records in enumerate(batches, start=first_batch_id):
            with stages("classify"):
                found = classify_batch(sinks, spark.createDataFrame(records, RECORD_SCHEMA))
            if applying is not None:
                yield applying.result()
            applying = mysql.submit(_apply_classified, sinks, batch_id, found, stages)
        if applying is not None:
            yield applying.result()


def _apply_classified(sinks: Sinks, batch_id: int, found: ClassifiedBatch, stages: Stages) -> int:
    with stages("apply"):
        result, _ = sinks.apply(batch_id, found.valid, found.lines, found.movements)
    return result.applied


# --- catching up, pausing, swapping ------------------------------------------------------


@contextmanager
def _apply_paused(live: Engine, database: str, timeout: int = 120) -> Iterator[None]:
    """Hold the stream job's apply lock: its MySQL writes wait (they retry) until we let go."""
    name = apply_lock_name(database)
    with live.connect() as conn:
        if not conn.scalar(select(func.get_lock(name, timeout))):
            raise RuntimeError(f"could not pause the stream job's writes within {timeout} s")
        conn.commit()
        try:
            yield
        finally:
            conn.execute(select(func.release_lock(name)))
            conn.commit()


def _catch_up(
    spark: SparkSession,
    sinks: Sinks,
    live: Engine,
    scratch: Engine,
    settings: Settings,
    store: str | None,
    wait_seconds: float = 60,
) -> int:
    """Apply the events the live tables have and the replay did not (they arrived while it
    ran). The raw copy runs beside the MySQL apply, so wait briefly for their documents."""
    if "processed_events" not in inspect(live).get_table_names():
        return 0
    with live.connect() as conn:
        applied_live = set(conn.scalars(select(processed_events.c.event_id)))
    with scratch.connect() as conn:
        applied_here = set(conn.scalars(select(processed_events.c.event_id)))
    missing = applied_live - applied_here
    if not missing:
        return 0
    deadline = time.monotonic() + wait_seconds
    while True:
        records = _mongo_records(settings, store, ids=missing)
        if store is not None or len(records) == len(missing) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    if store is None and len(records) < len(missing):
        raise RuntimeError(
            f"{len(missing) - len(records)} events applied to the live tables are not in "
            "MongoDB; not swapping (run `posctl verify` to see which rows differ)"
        )
    batches = _chunks(_in_received_order(records))
    for _ in _classify_and_apply(spark, sinks, batches, Stages(), first_batch_id=1_000_000):
        pass
    return len(records)


def _copy_other_stores(
    live: Engine, settings: Settings, scratch: Settings, store: str, present: set[str]
) -> None:
    """A one-store rebuild keeps every other store's rows as they are."""
    live_db, db = settings.mysql_database, scratch.mysql_database
    with live.begin() as conn:
        for table in REBUILT:
            if table.name not in present:
                continue
            if "store_id" in table.c:
                conn.execute(
                    text(
                        f"INSERT INTO `{db}`.`{table.name}` "
                        f"SELECT * FROM `{live_db}`.`{table.name}` WHERE store_id <> :store"
                    ),
                    {"store": store},
                )
            else:  # processed_events: the other stores' event ids stay applied
                conn.execute(
                    text(
                        f"INSERT IGNORE INTO `{db}`.`{table.name}` "
                        f"SELECT * FROM `{live_db}`.`{table.name}`"
                    )
                )


def _swap(live: Engine, settings: Settings, scratch: Settings, present: set[str]) -> None:
    live_db, db = settings.mysql_database, scratch.mysql_database
    old = f"{live_db}_old"
    moves = []
    for table in REBUILT:
        if table.name in present:
            moves.append(f"`{live_db}`.`{table.name}` TO `{old}`.`{table.name}`")
        moves.append(f"`{db}`.`{table.name}` TO `{live_db}`.`{table.name}`")
    with live.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{old}`"))
        conn.execute(text(f"CREATE DATABASE `{old}`"))
        conn.execute(text("RENAME TABLE " + ", ".join(moves)))  # one statement: atomic
        conn.execute(text(f"DROP DATABASE `{old}`"))
        # CREATE TABLE ... LIKE does not copy foreign keys: put stocks' back.
        conn.execute(
            text(
                f"ALTER TABLE `{live_db}`.stocks ADD CONSTRAINT stocks_sku_fk "
                f"FOREIGN KEY (sku) REFERENCES `{live_db}`.products (sku)"
            )
        )


# --- comparing ---------------------------------------------------------------------------


def compare(live: Engine, expected_db: str, found_db: str, present: set[str]) -> list[Difference]:
    """Every row that differs between the recomputed tables and the live ones. MariaDB
    joins each pair of tables on its key and returns only the rows that differ."""
    differences: list[Difference] = []
    with live.connect() as conn:
        for table in REBUILT:
            expected = table.to_metadata(MetaData(), schema=expected_db)
            if table.name not in present:  # gone from the live database: every row differs
                for row in conn.execute(select(*_compared(expected))).mappings():
                    wanted = dict(row)
                    differences.append(Difference(table.name, _key(table, wanted), wanted, None))
                continue
            found = table.to_metadata(MetaData(), schema=found_db)
            differences += _differing(conn, table, expected, found)
    return sorted(differences, key=lambda d: (REBUILT_ORDER[d.table], str(d.key)))


def _differing(conn: Connection, table: Table, expected: Table, found: Table) -> list[Difference]:
    key = [c.name for c in table.primary_key.columns]
    names = [c.name for c in _compared(table)]
    e, f = expected.alias("e"), found.alias("f")
    same_key = and_(*(e.c[k] == f.c[k] for k in key))
    differs = or_(f.c[key[0]].is_(None), *(~_same(e.c[name], f.c[name]) for name in names))
    both = select(
        *(e.c[n].label(f"e_{n}") for n in names), *(f.c[n].label(f"f_{n}") for n in names)
    ).select_from(e.outerjoin(f, same_key))
    only_found = select(*(f.c[n] for n in names)).select_from(f.outerjoin(e, same_key))
    differences = []
    for row in conn.execute(both.where(differs)).mappings():
        wanted = {n: row[f"e_{n}"] for n in names}
        have = None if row[f"f_{key[0]}"] is None else {n: row[f"f_{n}"] for n in names}
        differences.append(Difference(table.name, _key(table, wanted), wanted, have))
    for row in conn.execute(only_found.where(e.c[key[0]].is_(None))).mappings():
        have = dict(row)
        differences.append(Difference(table.name, _key(table, have), None, have))
    return differences


def _same(a: ColumnElement[Any], b: ColumnElement[Any]) -> ColumnElement[bool]:
    """Null-safe equality; text byte for byte (the collation would take 'a' for 'A')."""
    if isinstance(a.type, String):
        return cast(a, LargeBinary).is_not_distinct_from(cast(b, LargeBinary))
    return a.is_not_distinct_from(b)


def _compared(table: Table) -> list[Column[Any]]:
    return [c for c in table.c if c.name not in NOT_COMPARED]


def _key(table: Table, row: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(row[c.name] for c in table.primary_key.columns)
