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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from pymongo import MongoClient
from pymongo.errors import BulkWriteError, PyMongoError
from sqlalchemy import func, select, text, tuple_
from sqlalchemy.dialects.mysql import insert
from sqlalchemy.exc import OperationalError

from pos_app.db.engine import make_sync_engine
from pos_app.db.tables import (
    processed_events,
    product_monthly_sales,
    products,
    sale_returns,
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
from stream_jobs.aggregates import period_deltas
from stream_jobs.payments import PaymentBook
from stream_jobs.schema import (
    SALE_COMPLETED,
    SALE_RETURNED,
    STOCK_ADJUSTED,
    STOCK_RECEIVED,
)

DOCUMENT_NAME = {
    SALE_COMPLETED: "sale",
    SALE_RETURNED: "return",
    STOCK_RECEIVED: "receipt",
    STOCK_ADJUSTED: "adjustment",
}

T = TypeVar("T")
RAW_EVENTS = "raw_events"
REJECTED_EVENTS = "rejected_events"
DUPLICATE_KEY = 11000


class ApplyPaused(Exception):
    """Another process (a rebuild swapping tables in) holds the apply lock for now."""


def apply_lock_name(database: str) -> str:
    # Held by every MySQL apply of the stream job, and by a rebuild while it catches up
    # and swaps the rebuilt tables in: the rebuild pauses the job, it never races it.
    return f"pos-apply:{database}"


APPLY_LOCK_WAIT_SECONDS = 30


@dataclass(frozen=True)
class BatchResult:
    applied: int
    duplicate: int
    rejected: int
    lines: int


def retry(
    action: Callable[[], T],
    *,
    what: str,
    log: Callable[[str], None] = print,
    give_up_after: float | None = None,
) -> T:
    """Run action until it succeeds: a database that restarts delays the stream, it
    does not stop it (Spark's batch would fail and the query end otherwise). With
    give_up_after (seconds), the last error is raised once that time has passed."""
    delay = 0.5
    deadline = None if give_up_after is None else time.monotonic() + give_up_after
    while True:
        try:
            return action()
        except (OperationalError, PyMongoError, ApplyPaused) as error:
            if deadline is not None and time.monotonic() > deadline:
                raise
            log(f"{what} failed ({error.__class__.__name__}: {error}); retrying in {delay:.1f} s")
            time.sleep(delay)
            delay = min(delay * 2, 10.0)


class Sinks:
    def __init__(
        self, settings: Settings, *, query_name: str, give_up_after: float | None = None
    ) -> None:
        self.query_name = query_name
        self.give_up_after = give_up_after
        self.apply_lock = apply_lock_name(settings.mysql_database)
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
            raw.create_index("event.sale_id")  # a sale and its returns
            raw.create_index("event.occurred_at")  # the forecast's history by month
            raw.create_index("received_at")  # the rebuild's replay order
            raw.create_index("event.store_id")  # a rebuild of one store
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
        self,
        batch_id: int,
        events: Sequence[dict[str, Any]],
        lines: Sequence[dict[str, Any]],
        movements: Sequence[dict[str, Any]] = (),
    ) -> tuple[BatchResult, list[dict[str, Any]]]:
        """Apply new events in one transaction; return counts and the events refused
        (a document already recorded under another event id, an impossible return).

        events: the valid classified records; lines: the sale lines of the sales among
        them (`transform.sale_line_rows`); movements: the lines of their returns,
        receipts and adjustments (`transform.movement_rows`)."""
        return retry(
            lambda: self._apply_once(batch_id, events, lines, movements),
            what="writing to MySQL",
            give_up_after=self.give_up_after,
        )

    def _apply_once(
        self,
        batch_id: int,
        events: Sequence[dict[str, Any]],
        lines: Sequence[dict[str, Any]],
        movements: Sequence[dict[str, Any]],
    ) -> tuple[BatchResult, list[dict[str, Any]]]:
        with self.engine.connect() as session:
            got = session.scalar(select(func.get_lock(self.apply_lock, APPLY_LOCK_WAIT_SECONDS)))
            session.commit()
            if not got:
                raise ApplyPaused(f"{self.apply_lock} is held (a rebuild is swapping tables)")
            try:
                with session.begin():
                    return self._apply_in(session, batch_id, events, lines, movements)
            finally:
                session.execute(select(func.release_lock(self.apply_lock)))
                session.commit()

    def _apply_in(
        self,
        conn: Any,
        batch_id: int,
        events: Sequence[dict[str, Any]],
        lines: Sequence[dict[str, Any]],
        movements: Sequence[dict[str, Any]],
    ) -> tuple[BatchResult, list[dict[str, Any]]]:
        new, refused = _new_events(conn, events)
        payments = PaymentBook.of(new, lines, movements, refused)  # refuses unusable ones
        # An event delivered twice in one batch yields its lines twice: keep one copy.
        new_lines = list(
            {line["line_id"]: line for line in lines if line["event_id"] in new}.values()
        )
        moved: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for line in {m["line_id"]: m for m in movements if m["event_id"] in new}.values():
            moved[line["event_id"]].append(line)

        stock = StockDeltas()
        if new_lines:
            conn.execute(insert(sales).prefix_with("IGNORE"), new_lines)
            for line in new_lines:
                stock.add(line, "total_sold", line["quantity_sold"])
        returned = _accept_returns(conn, new, moved, refused)
        if returned:
            conn.execute(insert(sale_returns), returned)
            for back in returned:
                stock.add(back, "total_returned", back["quantity_returned"])
        movement_rows = [
            _movement_row(line)
            for event_id, event_lines in moved.items()
            if event_id in new  # a refused return is no longer there
            and new[event_id]["event_type"] in (STOCK_RECEIVED, STOCK_ADJUSTED)
            for line in event_lines
        ]
        if movement_rows:
            conn.execute(insert(stock_movements), movement_rows)
            for row in movement_rows:
                column = "total_received" if row["kind"] == "received" else "total_adjusted"
                stock.add(row, column, row["quantity"])
        if new:
            conn.execute(
                insert(processed_events),
                [
                    {
                        "event_id": i,
                        "event_type": r["event_type"],
                        "sale_id": r["document_id"],
                        "batch_id": batch_id,
                    }
                    for i, r in new.items()
                ],
            )
        stock.apply(conn)
        _apply_period_deltas(conn, new_lines, returned)
        payments.store(conn, applied=new)
        result = BatchResult(
            applied=len(new),
            duplicate=len(events) - len(new) - len(refused),
            rejected=len(refused),
            lines=len(new_lines) + len(returned) + len(movement_rows),
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
        return result, refused


def _new_events(
    conn: Any, events: Sequence[dict[str, Any]]
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """The events to apply, by id, in Kafka order, and those refused because their
    document (sale, return, receipt, adjustment) is recorded under another event id."""
    ordered = sorted(
        events, key=lambda r: (r["kafka_topic"], r["kafka_partition"], r["kafka_offset"])
    )
    ids = {row["event_id"] for row in ordered}
    seen_ids = _existing(conn, processed_events.c.event_id, ids)
    first_by_id: dict[str, dict[str, Any]] = {}
    for row in ordered:  # the first copy of each id within the batch
        if row["event_id"] not in seen_ids:
            first_by_id.setdefault(row["event_id"], row)
    documents = {(r["event_type"], r["document_id"]) for r in first_by_id.values()}
    recorded = (
        set(
            conn.execute(
                select(processed_events.c.event_type, processed_events.c.sale_id).where(
                    processed_events.c.sale_id.in_({d for _, d in documents})
                )
            ).tuples()
        )
        if documents
        else set()
    )
    new: dict[str, dict[str, Any]] = {}
    refused: list[dict[str, Any]] = []
    for event_id, row in first_by_id.items():
        document = (row["event_type"], row["document_id"])
        if document in recorded:
            what = DOCUMENT_NAME[row["event_type"]]
            reason = f"{what} {row['document_id']} already recorded under another event id"
            refused.append({**row, "reason": reason})
        else:
            new[event_id] = row
            recorded.add(document)
    return new, refused


def _existing(conn: Any, column: Any, values: set[str]) -> set[str]:
    if not values:
        return set()
    return set(conn.scalars(select(column).where(column.in_(values))))


def _accept_returns(
    conn: Any,
    new: dict[str, dict[str, Any]],
    moved: dict[str, list[dict[str, Any]]],
    refused: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """The `sale_returns` rows of the returns that are possible: each line names a line
    of the sale (already applied: a return follows its sale on the same partition) and
    takes back no more than was sold less what earlier returns took. An impossible
    return moves to `refused` (and out of `new`) with the reason."""
    returns = [r for r in new.values() if r["event_type"] == SALE_RETURNED]
    if not returns:
        return []
    sale_ids = {r["sale_id"] for r in returns}
    sold = {
        (row.sale_id, row.line_no): row
        for row in conn.execute(
            select(sales.c.sale_id, sales.c.line_no, sales.c.sku, sales.c.quantity_sold).where(
                sales.c.sale_id.in_(sale_ids)
            )
        )
    }
    taken_back: dict[tuple[str, int], int] = defaultdict(int)
    for row in conn.execute(
        select(sale_returns.c.sale_id, sale_returns.c.line_no, sale_returns.c.quantity_returned)
        .where(sale_returns.c.sale_id.in_(sale_ids))
        .with_for_update()
    ):
        taken_back[(row.sale_id, row.line_no)] += row.quantity_returned
    accepted: list[dict[str, Any]] = []
    for event in returns:  # in Kafka order: an earlier return limits a later one
        event_lines = sorted(moved.get(event["event_id"], []), key=lambda m: m["line_no"])
        problem = _return_problem(event, event_lines, sold, taken_back)
        if problem:
            refused.append({**event, "reason": problem})
            del new[event["event_id"]]
            continue
        for line in event_lines:
            taken_back[(event["sale_id"], line["line_no"])] += line["quantity"]
            accepted.append(_return_row(line))
    return accepted


def _return_problem(
    event: dict[str, Any],
    lines: list[dict[str, Any]],
    sold: dict[tuple[str, int], Any],
    taken_back: dict[tuple[str, int], int],
) -> str | None:
    sale_id = event["sale_id"]
    if not any(key[0] == sale_id for key in sold):
        return f"return {event['document_id']}: sale {sale_id} is not recorded"
    line_nos = [line["line_no"] for line in lines]
    if len(set(line_nos)) != len(line_nos):
        return f"return {event['document_id']}: a line of the sale is named twice"
    for line in lines:
        key = (sale_id, line["line_no"])
        original = sold.get(key)
        if original is None or original.sku != line["sku"]:
            return (
                f"return {event['document_id']}: sale {sale_id} has no line "
                f"{line['line_no']} of {line['sku']}"
            )
        left = original.quantity_sold - taken_back[key]
        if line["quantity"] > left:
            return (
                f"return {event['document_id']}: line {line['line_no']} returns "
                f"{line['quantity']} but only {left} of {original.quantity_sold} can come back"
            )
    return None


def _return_row(line: dict[str, Any]) -> dict[str, Any]:
    return {
        "line_id": line["line_id"],
        "return_id": line["document_id"],
        "sale_id": line["sale_id"],
        "event_id": line["event_id"],
        "line_no": line["line_no"],
        "store_id": line["store_id"],
        "register_id": line["register_id"],
        "cashier": line["actor"],
        "sku": line["sku"],
        "product": line["product"],
        "quantity_returned": line["quantity"],
        "price_each": line["price_each"],
        "refund": line["amount"],
        "reason": line["reason"][:200],
        "return_date": line["local_date"],
        "occurred_at": line["occurred_at"],
        # for the period tables; not columns of sale_returns
        "year": line["year"],
        "month": line["month"],
    }


def _movement_row(line: dict[str, Any]) -> dict[str, Any]:
    return {
        "line_id": line["line_id"],
        "document_id": line["document_id"],
        "event_id": line["event_id"],
        "kind": "received" if line["event_type"] == STOCK_RECEIVED else "adjusted",
        "store_id": line["store_id"],
        "sku": line["sku"],
        "quantity": line["quantity"],
        "reason": line["reason"][:200],
        "recorded_by": line["actor"][:60],
        "movement_date": line["local_date"],
        "occurred_at": line["occurred_at"],
    }


STOCK_TOTALS = ("total_sold", "total_received", "total_returned", "total_adjusted")
# How each total moves on hand.
ON_HAND_SIGN = {"total_sold": -1, "total_received": 1, "total_returned": 1, "total_adjusted": 1}


class StockDeltas:
    """What a batch changes in `stocks`, per store and SKU, and the reorder-point
    crossings it causes: an alert when on hand goes from above the reorder point to at
    or below it, once per crossing (checked per batch)."""

    def __init__(self) -> None:
        self.totals: dict[tuple[str, str], dict[str, int]] = defaultdict(
            lambda: dict.fromkeys(STOCK_TOTALS, 0)
        )
        self.last_event: dict[tuple[str, str], str] = {}

    def add(self, row: Mapping[str, Any], column: str, quantity: int) -> None:
        key = (row["store_id"], row["sku"])
        self.totals[key][column] += quantity
        self.last_event[key] = row["event_id"]

    def apply(self, conn: Any) -> None:
        if not self.totals:
            return
        keys = sorted(self.totals)  # sorted: a stable lock order
        where = tuple_(stocks.c.store_id, stocks.c.sku).in_(keys)
        before = dict(
            ((r.store_id, r.sku), r.on_hand)
            for r in conn.execute(
                select(stocks.c.store_id, stocks.c.sku, stocks.c.on_hand)
                .where(where)
                .with_for_update()
            )
        )
        rows = []
        for store, sku in keys:
            totals = self.totals[(store, sku)]
            change = sum(ON_HAND_SIGN[c] * totals[c] for c in STOCK_TOTALS)
            rows.append(
                {"store_id": store, "sku": sku, "stock_quantity": 0, "on_hand": change, **totals}
            )
        upsert = insert(stocks).values(rows)
        conn.execute(
            upsert.on_duplicate_key_update(
                {c: stocks.c[c] + upsert.inserted[c] for c in (*STOCK_TOTALS, "on_hand")}
                | {"updated_at": text("CURRENT_TIMESTAMP(3)")}
            )
        )
        after = conn.execute(
            select(stocks.c.store_id, stocks.c.sku, stocks.c.on_hand, products.c.reorder_point)
            .join(products, products.c.sku == stocks.c.sku)
            .where(where)
        )
        alerts = [
            {
                "store_id": r.store_id,
                "sku": r.sku,
                "on_hand": r.on_hand,
                "reorder_point": r.reorder_point,
                "event_id": self.last_event[(r.store_id, r.sku)],
            }
            for r in after
            if r.on_hand <= r.reorder_point
            and before.get((r.store_id, r.sku), r.reorder_point + 1) > r.reorder_point
        ]
        if alerts:
            conn.execute(insert(stock_alerts), alerts)


PERIOD_TABLES = {
    t.name: t for t in (sales_daily, sales_monthly, sales_yearly, product_monthly_sales)
}
MEASURES = ("revenue", "units", "sales_count", "lines_count")


def _apply_period_deltas(
    conn: Any, lines: Sequence[dict[str, Any]], returned: Sequence[dict[str, Any]]
) -> None:
    """Add the lines, less the returns, to the sales-by-period tables (in the caller's
    transaction)."""
    if not lines and not returned:
        return
    for name, rows in period_deltas(lines, returned).rows().items():
        table = PERIOD_TABLES[name]
        upsert = insert(table).values(rows)
        update = {m: table.c[m] + upsert.inserted[m] for m in MEASURES}
        if "product" in table.c:  # the least name, whatever the order (aggregates.py)
            update["product"] = func.least(table.c.product, upsert.inserted.product)
        conn.execute(upsert.on_duplicate_key_update(update))


def _position(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "topic": row["kafka_topic"],
        "partition": row["kafka_partition"],
        "offset": row["kafka_offset"],
    }
