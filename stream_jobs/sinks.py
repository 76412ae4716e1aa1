"""Where the stream job writes: raw and rejected events to MongoDB, processed tables
to MySQL. Every write is idempotent, so a replayed micro-batch changes nothing:

- MongoDB documents are keyed by event id (raw) or Kafka position (rejected) and
  inserted once;
- MySQL applies an event in the same transaction that records its id in
  `processed_events`, and skips ids already there.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from pymongo import MongoClient
from pymongo.errors import BulkWriteError, PyMongoError
from sqlalchemy import select, text
from sqlalchemy.dialects.mysql import insert
from sqlalchemy.exc import OperationalError

from pos_app.db.engine import make_sync_engine
from pos_app.db.tables import (
    processed_events,
    product_monthly_sales,
    products,
    sales,
    sales_daily,
    sales_monthly,
    sales_yearly,
    stocks,
    stream_batches,
)
from pos_app.settings import Settings
from stream_jobs.aggregates import period_deltas

T = TypeVar("T")
RAW_EVENTS = "raw_events"
REJECTED_EVENTS = "rejected_events"
DUPLICATE_KEY = 11000


@dataclass(frozen=True)
class BatchResult:
    applied: int
    duplicate: int
    rejected: int
    lines: int


def retry(action: Callable[[], T], *, what: str, log: Callable[[str], None] = print) -> T:
    """Run action until it succeeds: a database that restarts delays the stream, it
    does not stop it (Spark's batch would fail and the query end otherwise)."""
    delay = 0.5
    while True:
        try:
            return action()
        except (OperationalError, PyMongoError) as error:
            log(f"{what} failed ({error.__class__.__name__}: {error}); retrying in {delay:.1f} s")
            time.sleep(delay)
            delay = min(delay * 2, 10.0)


class Sinks:
    def __init__(self, settings: Settings, *, query_name: str) -> None:
        self.query_name = query_name
        self.engine = make_sync_engine(settings)
        self.mongo: MongoClient[dict[str, Any]] = MongoClient(
            settings.mongo_url, serverSelectionTimeoutMS=5000
        )
        self.mongo_db = self.mongo[settings.mongo_database]

    def close(self) -> None:
        self.engine.dispose()
        self.mongo.close()

    def known_skus(self) -> list[str]:
        def load() -> list[str]:
            with self.engine.connect() as conn:
                return list(conn.scalars(select(products.c.sku)))

        return retry(load, what="reading the catalog")

    # --- MongoDB -------------------------------------------------------------------

    def ensure_indexes(self) -> None:
        def create() -> None:
            raw = self.mongo_db[RAW_EVENTS]
            raw.create_index("event.sale_id")
            raw.create_index("event.occurred_at")
            self.mongo_db[REJECTED_EVENTS].create_index("received_at")

        retry(create, what="creating MongoDB indexes")

    def store_raw(self, events: Sequence[dict[str, Any]]) -> None:
        """events: rows with value (the JSON as received), event_id and Kafka position."""
        stored_at = datetime.now(UTC)
        self._insert_once(
            RAW_EVENTS,
            [
                {
                    "_id": row["event_id"],
                    "event": json.loads(row["value"]),
                    "received_at": row["kafka_timestamp"],
                    "stored_at": stored_at,
                    "kafka": _position(row),
                }
                for row in events
            ],
        )

    def store_rejected(self, rejected: Sequence[dict[str, Any]]) -> None:
        stored_at = datetime.now(UTC)
        self._insert_once(
            REJECTED_EVENTS,
            [
                {
                    "_id": "{topic}:{partition}:{offset}".format(**_position(row)),
                    "reason": row["reason"],
                    "value": row["value"],  # as received; it may not even be JSON
                    "event_id": row.get("event_id"),
                    "received_at": row["kafka_timestamp"],
                    "stored_at": stored_at,
                    "kafka": _position(row),
                }
                for row in rejected
            ],
        )

    def _insert_once(self, collection: str, documents: list[dict[str, Any]]) -> None:
        """Insert documents keyed by _id; ones already there (a replayed batch) stay as
        they are. An unordered insert is ~17x faster than upserts on FerretDB."""
        if not documents:
            return

        def insert() -> None:
            try:
                self.mongo_db[collection].insert_many(documents, ordered=False)
            except BulkWriteError as error:
                others = [e for e in error.details["writeErrors"] if e["code"] != DUPLICATE_KEY]
                if others:
                    raise

        retry(insert, what=f"storing {collection}")

    # --- MySQL -----------------------------------------------------------------------

    def apply(
        self, batch_id: int, events: Sequence[dict[str, Any]], lines: Sequence[dict[str, Any]]
    ) -> tuple[BatchResult, list[dict[str, Any]]]:
        """Apply new events in one transaction; return counts and the events refused as
        duplicates of a sale already recorded under another event id."""
        return retry(lambda: self._apply_once(batch_id, events, lines), what="writing to MySQL")

    def _apply_once(
        self, batch_id: int, events: Sequence[dict[str, Any]], lines: Sequence[dict[str, Any]]
    ) -> tuple[BatchResult, list[dict[str, Any]]]:
        with self.engine.begin() as conn:
            ids = {row["event_id"] for row in events}
            seen_ids = (
                set(
                    conn.scalars(
                        select(processed_events.c.event_id).where(
                            processed_events.c.event_id.in_(ids)
                        )
                    )
                )
                if ids
                else set()
            )
            first_by_id: dict[str, dict[str, Any]] = {}
            for row in events:  # the first copy of each id within the batch
                if row["event_id"] not in seen_ids:
                    first_by_id.setdefault(row["event_id"], row)
            sale_ids = {row["sale_id"] for row in first_by_id.values()}
            recorded_sales = (
                set(
                    conn.scalars(
                        select(sales.c.sale_id).distinct().where(sales.c.sale_id.in_(sale_ids))
                    )
                )
                if sale_ids
                else set()
            )
            conflicting, new = [], {}
            for event_id, row in first_by_id.items():
                if row["sale_id"] in recorded_sales:
                    reason = f"sale {row['sale_id']} already recorded under another event id"
                    conflicting.append({**row, "reason": reason})
                else:
                    new[event_id] = row
                    recorded_sales.add(row["sale_id"])
            # An event delivered twice in one batch yields its lines twice: keep one copy.
            new_lines = list(
                {line["line_id"]: line for line in lines if line["event_id"] in new}.values()
            )

            if new:
                conn.execute(
                    insert(processed_events),
                    [
                        {
                            "event_id": i,
                            "event_type": "sale.completed",
                            "sale_id": r["sale_id"],
                            "batch_id": batch_id,
                        }
                        for i, r in new.items()
                    ],
                )
            if new_lines:
                conn.execute(insert(sales).prefix_with("IGNORE"), new_lines)
                _apply_stock_deltas(conn, new_lines)
                _apply_period_deltas(conn, new_lines)
            result = BatchResult(
                applied=len(new),
                duplicate=len(events) - len(new) - len(conflicting),
                rejected=len(conflicting),
                lines=len(new_lines),
            )
            ledger = insert(stream_batches).values(
                query_name=self.query_name,
                batch_id=batch_id,
                events_applied=result.applied,
                events_duplicate=result.duplicate,
                events_rejected=result.rejected,
                lines_applied=result.lines,
            )
            conn.execute(ledger.on_duplicate_key_update(committed_at=ledger.inserted.committed_at))
        return result, conflicting


def _apply_stock_deltas(conn: Any, lines: Iterable[dict[str, Any]]) -> None:
    sold: dict[tuple[str, str], int] = defaultdict(int)
    for line in lines:
        sold[(line["store_id"], line["sku"])] += line["quantity_sold"]
    upsert = insert(stocks).values(
        [
            {"store_id": store, "sku": sku, "stock_quantity": 0, "total_sold": qty, "on_hand": -qty}
            for (store, sku), qty in sorted(sold.items())  # sorted: a stable lock order
        ]
    )
    conn.execute(
        upsert.on_duplicate_key_update(
            total_sold=stocks.c.total_sold + upsert.inserted.total_sold,
            on_hand=stocks.c.on_hand - upsert.inserted.total_sold,
            updated_at=text("CURRENT_TIMESTAMP(3)"),
        )
    )


PERIOD_TABLES = {
    t.name: t for t in (sales_daily, sales_monthly, sales_yearly, product_monthly_sales)
}
MEASURES = ("revenue", "units", "sales_count", "lines_count")


def _apply_period_deltas(conn: Any, lines: Iterable[dict[str, Any]]) -> None:
    """Add the lines to the sales-by-period tables (in the caller's transaction)."""
    for name, rows in period_deltas(lines).rows().items():
        table = PERIOD_TABLES[name]
        upsert = insert(table).values(rows)
        conn.execute(
            upsert.on_duplicate_key_update({m: table.c[m] + upsert.inserted[m] for m in MEASURES})
        )


def _position(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "topic": row["kafka_topic"],
        "partition": row["kafka_partition"],
        "offset": row["kafka_offset"],
    }
