"""Where the stream job writes: raw and rejected events to MongoDB, processed tables
to MySQL. The two are written by two streaming queries that do not wait for each other
(`sales_stream.py`), each exactly once by its own rule, so a replayed micro-batch
changes nothing:

- MongoDB documents are keyed by event id (raw) or Kafka position (rejected) and
  inserted once; a raw event whose document (sale, return, receipt, adjustment) is
  stored already under another event id is refused, as MySQL refuses it;
- MySQL applies an event in the same transaction that records its id in
  `processed_events`, and skips ids already there.

The rules (which events are new, which returns are possible, how stock moves, what the
periods add up to) are pure functions in `rules.py` and `aggregates.py`; this module
reads what they need from MySQL and writes what they return.
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
from sqlalchemy import Connection, func, select, text, tuple_
from sqlalchemy.dialects.mysql import insert
from sqlalchemy.exc import OperationalError

from pos_app.contract import (
    RAW_DOCUMENTS_COLLECTION,
    RAW_EVENTS_COLLECTION,
    REJECTED_EVENTS_COLLECTION,
)
from pos_app.db.engine import make_sync_engine
from pos_app.db.tables import (
    processed_events,
    product_monthly_sales,
    products,
    sale_documents,
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
from stream_jobs import rules
from stream_jobs.aggregates import period_deltas
from stream_jobs.catalogue import KnownSkus
from stream_jobs.payments import PaymentBook
from stream_jobs.rows import (
    EventRecord,
    MovementLine,
    ReturnedLine,
    SaleLine,
    SoldQuantity,
    StockLevel,
)

T = TypeVar("T")
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
        self.known_skus = KnownSkus(self._find_skus)
        self._indexed = False

    def close(self) -> None:
        self.engine.dispose()
        self.mongo.close()

    def _find_skus(self, wanted: set[str] | None) -> set[str]:
        """The catalogue's SKUs among wanted (None: all of them)."""

        def load() -> set[str]:
            query = select(products.c.sku)
            if wanted is not None:
                query = query.where(products.c.sku.in_(wanted))
            with self.engine.connect() as conn:
                return set(conn.scalars(query))

        return retry(load, what="reading the catalog")

    # --- MongoDB -------------------------------------------------------------------

    def ensure_indexes(self) -> None:
        """Once per process (the raw copy's first batch, so the job starts without MongoDB)."""
        if self._indexed:
            return

        def create() -> None:
            # Only what a query uses, as every index slows every insert of the raw copy:
            # the forecast reads MySQL and the rebuild sorts in the job, so only the
            # one-store rebuild's filter is left.
            self.mongo_db[RAW_EVENTS_COLLECTION].create_index("event.store_id")
            self.mongo_db[REJECTED_EVENTS_COLLECTION].create_index("received_at")

        retry(create, what="creating MongoDB indexes")
        self._indexed = True

    def store_raw(self, events: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """events: valid classified records (value: the JSON as received, event id, Kafka
        position). Stores the first event of each document once; returns the records
        refused because their document is stored already under another event id.

        Each document is claimed in `raw_documents` (keyed by document, holding its event
        id) before its event is stored: a claim that exists already is read back, by _id,
        which FerretDB finds without a scan (a query on any other field reads every raw
        event). A replayed batch finds its own claims and stores what is missing."""
        first = rules.first_unapplied((EventRecord.of(row) for row in events), set())
        once, refused = rules.refuse_recorded_documents(first, set())  # within the batch
        claimed_by = retry(lambda: self._claim_documents(once), what="claiming raw documents")
        recorded = {
            (event.event_type, event.document_id)
            for event_id, event in once.items()
            if claimed_by.get(_document_key(event), event_id) != event_id
        }
        new, refused_earlier = rules.refuse_recorded_documents(once, recorded)
        refused += refused_earlier
        stored_at = datetime.now(UTC)
        self._insert_once(
            RAW_EVENTS_COLLECTION,
            [
                {
                    "_id": event_id,
                    "event": json.loads(event.value or "null"),
                    "received_at": event.kafka_timestamp,
                    "stored_at": stored_at,
                    "kafka": _position(event.source),
                }
                for event_id, event in new.items()
            ],
        )
        return [refusal.as_rejected() for refusal in refused]

    def _claim_documents(self, events: Mapping[str, EventRecord]) -> dict[str, str]:
        """Claim each event's document; return, for documents claimed before, by whom."""
        claims = [
            {"_id": _document_key(event), "event_id": event_id}
            for event_id, event in events.items()
        ]
        if not claims:
            return {}
        collection = self.mongo_db[RAW_DOCUMENTS_COLLECTION]
        try:
            collection.insert_many(claims, ordered=False)
            return {}
        except BulkWriteError as error:
            failed = error.details["writeErrors"]
            if any(e["code"] != DUPLICATE_KEY for e in failed):
                raise
        earlier: dict[str, str] = {}
        for failure in failed:
            key = claims[failure["index"]]["_id"]
            found = collection.find_one({"_id": key})
            if found is not None:
                earlier[key] = found["event_id"]
        return earlier

    def store_rejected(self, rejected: Sequence[dict[str, Any]]) -> None:
        stored_at = datetime.now(UTC)
        self._insert_once(
            REJECTED_EVENTS_COLLECTION,
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
        conn: Connection,
        batch_id: int,
        events: Sequence[dict[str, Any]],
        lines: Sequence[dict[str, Any]],
        movements: Sequence[dict[str, Any]],
    ) -> tuple[BatchResult, list[dict[str, Any]]]:
        records = [EventRecord.of(row) for row in events]
        first = rules.first_unapplied(records, _applied(conn, {e.event_id for e in records}))
        new, refused = rules.refuse_recorded_documents(
            first, _recorded(conn, rules.documents(first.values()))
        )
        payments = PaymentBook.of(new, lines, movements, refused)  # refuses unusable ones
        new_lines = rules.lines_of((SaleLine.of(row) for row in lines), new)
        moved = rules.movements_by_event((MovementLine.of(row) for row in movements), new)
        if new_lines:
            conn.execute(insert(sales).prefix_with("IGNORE"), [line.as_row() for line in new_lines])
        returns = rules.returns_of(new)
        accepted = rules.accept_returns(returns, moved, *_sold_and_returned(conn, returns))
        for refusal in accepted.refused:
            del new[refusal.event.event_id]
        refused += accepted.refused
        returned = accepted.lines
        if returned:
            conn.execute(insert(sale_returns), [back.as_row() for back in returned])
        documents = rules.sale_documents(new, new_lines, returned)
        if documents:
            conn.execute(
                insert(sale_documents).prefix_with("IGNORE"), [d.as_row() for d in documents]
            )
        movement_rows = rules.stock_movements(new, moved)
        if movement_rows:
            conn.execute(insert(stock_movements), [row.as_row() for row in movement_rows])
        if new:
            conn.execute(
                insert(processed_events),
                [
                    {
                        "event_id": event_id,
                        "event_type": event.event_type,
                        "sale_id": event.document_id,
                        "batch_id": batch_id,
                    }
                    for event_id, event in new.items()
                ],
            )
        _apply_stock(conn, rules.StockDeltas.of(new_lines, returned, movement_rows))
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
        return result, [refusal.as_rejected() for refusal in refused]


# --- what the rules read from MySQL, and where their rows go ---------------------------------


def _applied(conn: Connection, event_ids: set[str]) -> set[str]:
    if not event_ids:
        return set()
    column = processed_events.c.event_id
    return set(conn.scalars(select(column).where(column.in_(event_ids))))


def _recorded(conn: Connection, documents: set[rules.Document]) -> set[rules.Document]:
    """Of these documents, those recorded already (under whichever event id)."""
    if not documents:
        return set()
    found = conn.execute(
        select(processed_events.c.event_type, processed_events.c.sale_id).where(
            processed_events.c.sale_id.in_({document_id for _, document_id in documents})
        )
    ).tuples()
    return {(event_type, document_id) for event_type, document_id in found}


def _sold_and_returned(
    conn: Connection, returns: Sequence[EventRecord]
) -> tuple[dict[rules.LineKey, SoldQuantity], dict[rules.LineKey, int]]:
    """The recorded lines of the sales these returns return from, and what earlier
    returns took back (locked, so a concurrent apply cannot take the same units)."""
    sale_ids = {event.sale_id for event in returns if event.sale_id is not None}
    if not sale_ids:
        return {}, {}
    sold = {
        (row.sale_id, row.line_no): SoldQuantity(row.sku, row.quantity_sold, row.unit_cost)
        for row in conn.execute(
            select(
                sales.c.sale_id,
                sales.c.line_no,
                sales.c.sku,
                sales.c.quantity_sold,
                sales.c.unit_cost,
            ).where(sales.c.sale_id.in_(sale_ids))
        )
    }
    taken_back: dict[rules.LineKey, int] = defaultdict(int)
    for row in conn.execute(
        select(sale_returns.c.sale_id, sale_returns.c.line_no, sale_returns.c.quantity_returned)
        .where(sale_returns.c.sale_id.in_(sale_ids))
        .with_for_update()
    ):
        taken_back[(row.sale_id, row.line_no)] += row.quantity_returned
    return sold, taken_back


def _apply_stock(conn: Connection, deltas: rules.StockDeltas) -> None:
    """Add the batch's stock changes and record the reorder-point crossings they cause."""
    keys = deltas.keys()
    if not keys:
        return
    where = tuple_(stocks.c.store_id, stocks.c.sku).in_(keys)
    before = {
        (row.store_id, row.sku): row.on_hand
        for row in conn.execute(
            select(stocks.c.store_id, stocks.c.sku, stocks.c.on_hand).where(where).with_for_update()
        )
    }
    upsert = insert(stocks).values(deltas.upsert_rows())
    conn.execute(
        upsert.on_duplicate_key_update(
            {c: stocks.c[c] + upsert.inserted[c] for c in (*rules.STOCK_TOTALS, "on_hand")}
            | {"updated_at": text("CURRENT_TIMESTAMP(3)")}
        )
    )
    after = [
        StockLevel(row.store_id, row.sku, row.on_hand, row.reorder_point)
        for row in conn.execute(
            select(stocks.c.store_id, stocks.c.sku, stocks.c.on_hand, products.c.reorder_point)
            .join(products, products.c.sku == stocks.c.sku)
            .where(where)
        )
    ]
    alerts = deltas.alerts(before, after)
    if alerts:
        conn.execute(insert(stock_alerts), [alert.as_row() for alert in alerts])


PERIOD_TABLES = {
    t.name: t for t in (sales_daily, sales_monthly, sales_yearly, product_monthly_sales)
}
MEASURES = ("revenue", "units", "sales_count", "lines_count", "cost", "costed_revenue")


def _apply_period_deltas(
    conn: Connection, lines: Sequence[SaleLine], returned: Sequence[ReturnedLine]
) -> None:
    """Add the lines, less the returns, to the sales-by-period tables (in the caller's
    transaction)."""
    if not lines and not returned:
        return
    for name, rows in period_deltas(lines, returned).rows().items():
        table = PERIOD_TABLES[name]
        upsert = insert(table).values(rows)
        update: dict[str, Any] = {m: table.c[m] + upsert.inserted[m] for m in MEASURES}
        if "product" in table.c:  # the least name, whatever the order (aggregates.py)
            update["product"] = func.least(table.c.product, upsert.inserted.product)
        conn.execute(upsert.on_duplicate_key_update(update))


def stored_count(database: Any, collection: str) -> int:
    """How many documents a collection holds, from its stats: FerretDB answers
    `count_documents({})` and even `estimated_document_count()` by reading every document
    (minutes for a year of raw events under load), `collStats` in seconds."""
    return int(database.command("collStats", collection)["count"])


def _document_key(event: EventRecord) -> str:
    return f"{event.event_type}:{event.document_id}"


def _position(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "topic": row["kafka_topic"],
        "partition": row["kafka_partition"],
        "offset": row["kafka_offset"],
    }
