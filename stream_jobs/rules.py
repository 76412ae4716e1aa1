"""The stream job's business rules, as pure functions over typed rows: which events of a
micro-batch are new, which returns are possible, what goods received and adjustments
record, how stock moves and when it crosses the reorder point. Period totals are in
`aggregates.py`. No Spark and no database here: `sinks.py` reads what the rules need
from MySQL, calls them, and writes what they return, in one transaction."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pos_app.contract import (
    DOCUMENT_NAME,
    SALE_COMPLETED,
    SALE_RETURNED,
    STOCK_ADJUSTED,
    STOCK_RECEIVED,
    TRANSFER_RECEIVED,
    TRANSFER_SENT,
    ReturnableLine,
    ReturnProblem,
    WantedBack,
    crossed_reorder_point,
    return_problem,
)
from stream_jobs.rows import (
    EventRecord,
    MovementLine,
    Refusal,
    ReturnedLine,
    SaleDocument,
    SaleLine,
    SoldQuantity,
    StockAlert,
    StockLevel,
    StockMovement,
)

Document = tuple[str, str]  # (event type, document id)
LineKey = tuple[str, int]  # (sale id, line no)


# --- which events are new ----------------------------------------------------------------


def first_unapplied(events: Iterable[EventRecord], applied_ids: set[str]) -> dict[str, EventRecord]:
    """The first copy, in Kafka order, of each event whose id is not applied yet."""
    first: dict[str, EventRecord] = {}
    for event in sorted(events, key=lambda e: e.position):
        if event.event_id not in applied_ids:
            first.setdefault(event.event_id, event)
    return first


def documents(events: Iterable[EventRecord]) -> set[Document]:
    return {(e.event_type, e.document_id) for e in events}


def refuse_recorded_documents(
    first: Mapping[str, EventRecord], recorded: set[Document]
) -> tuple[dict[str, EventRecord], list[Refusal]]:
    """Split the events into those to apply, by id in Kafka order, and those refused
    because their document (sale, return, receipt, adjustment) is already recorded under
    another event id, earlier or earlier in this batch."""
    seen = set(recorded)
    new: dict[str, EventRecord] = {}
    refused: list[Refusal] = []
    for event_id, event in first.items():
        document = (event.event_type, event.document_id)
        if document in seen:
            what = DOCUMENT_NAME[event.event_type]
            reason = f"{what} {event.document_id} already recorded under another event id"
            refused.append(Refusal(event, reason))
        else:
            new[event_id] = event
            seen.add(document)
    return new, refused


def lines_of(lines: Iterable[SaleLine], new: Mapping[str, EventRecord]) -> list[SaleLine]:
    """The lines of the new events; an event delivered twice in one batch yields its
    lines twice: one copy each (in first-seen order)."""
    return list({line.line_id: line for line in lines if line.event_id in new}.values())


def movements_by_event(
    movements: Iterable[MovementLine], new: Mapping[str, EventRecord]
) -> dict[str, list[MovementLine]]:
    """The return, receipt and adjustment lines of the new events, by event id, once each."""
    moved: dict[str, list[MovementLine]] = defaultdict(list)
    for line in {m.line_id: m for m in movements if m.event_id in new}.values():
        moved[line.event_id].append(line)
    return dict(moved)


# --- returns -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AcceptedReturns:
    lines: list[ReturnedLine]
    refused: list[Refusal]


def returns_of(new: Mapping[str, EventRecord]) -> list[EventRecord]:
    return [e for e in new.values() if e.event_type == SALE_RETURNED]


def accept_returns(
    returns: Sequence[EventRecord],
    moved: Mapping[str, Sequence[MovementLine]],
    sold: Mapping[LineKey, SoldQuantity],
    taken_back: Mapping[LineKey, int],
) -> AcceptedReturns:
    """The `sale_returns` rows of the returns that are possible, and the others refused
    with the reason. A return is possible if each line names a line of the sale (applied
    already: a return follows its sale on the same partition) and takes back no more
    than was sold less what earlier returns took, those of this batch included, in
    Kafka order. sold and taken_back: the recorded sale lines and returned quantities
    of the sales returned from."""
    back: dict[LineKey, int] = defaultdict(int, taken_back)
    accepted: list[ReturnedLine] = []
    refused: list[Refusal] = []
    for event in returns:
        lines = sorted(moved.get(event.event_id, []), key=lambda m: m.line_no)
        problem = _return_problem(event, lines, sold, back)
        if problem is not None:
            refused.append(Refusal(event, problem))
            continue
        for line in lines:
            key = (event.sale_id or "", line.line_no)
            back[key] += line.quantity
            accepted.append(ReturnedLine.of(line, unit_cost=sold[key].unit_cost))
    return AcceptedReturns(accepted, refused)


def _return_problem(
    event: EventRecord,
    lines: Sequence[MovementLine],
    sold: Mapping[LineKey, SoldQuantity],
    taken_back: Mapping[LineKey, int],
) -> str | None:
    sale_id = event.sale_id or ""
    sale = {
        key[1]: ReturnableLine(key[1], row.sku, row.quantity_sold, taken_back.get(key, 0))
        for key, row in sold.items()
        if key[0] == sale_id
    }
    if not sale:
        return f"return {event.document_id}: sale {sale_id} is not recorded"
    problem = return_problem(sale, [WantedBack(m.line_no, m.quantity, m.sku) for m in lines])
    return None if problem is None else _describe(event, sale_id, problem)


def _describe(event: EventRecord, sale_id: str, problem: ReturnProblem) -> str:
    back = problem.wanted
    if problem.kind == "line named twice":
        return f"return {event.document_id}: a line of the sale is named twice"
    if problem.kind == "no such line" or problem.line is None:
        return (
            f"return {event.document_id}: sale {sale_id} has no line {back.line_no} of {back.sku}"
        )
    return (
        f"return {event.document_id}: line {back.line_no} returns {back.quantity} "
        f"but only {problem.line.returnable} of {problem.line.sold} can come back"
    )


# --- goods received and adjustments --------------------------------------------------------


def stock_movements(
    new: Mapping[str, EventRecord], moved: Mapping[str, Sequence[MovementLine]]
) -> list[StockMovement]:
    """The `stock_movements` rows of the new receipts, adjustments and transfers."""
    return [
        StockMovement.of(line)
        for event_id, lines in moved.items()
        if event_id in new and new[event_id].event_type in MOVEMENT_EVENT_TYPES
        for line in lines
    ]


MOVEMENT_EVENT_TYPES = (STOCK_RECEIVED, STOCK_ADJUSTED, TRANSFER_SENT, TRANSFER_RECEIVED)


# --- stock and its alerts ----------------------------------------------------------------

STOCK_TOTALS = (
    "total_sold",
    "total_received",
    "total_returned",
    "total_adjusted",
    "total_transferred",
)
# How each total moves on hand (total_transferred is signed: in less out).
ON_HAND_SIGN = {
    "total_sold": -1,
    "total_received": 1,
    "total_returned": 1,
    "total_adjusted": 1,
    "total_transferred": 1,
}
# The `stocks` total each kind of stock movement adds to.
MOVEMENT_TOTAL = {
    "received": "total_received",
    "adjusted": "total_adjusted",
    "transfer_out": "total_transferred",
    "transfer_in": "total_transferred",
}
StockKey = tuple[str, str]  # (store id, sku)


@dataclass
class StockDeltas:
    """What a batch changes in `stocks`, per store and SKU, and the event that moved each
    last (an alert names it)."""

    totals: dict[StockKey, dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: dict.fromkeys(STOCK_TOTALS, 0))
    )
    last_event: dict[StockKey, str] = field(default_factory=dict)

    def add(self, store_id: str, sku: str, event_id: str, column: str, quantity: int) -> None:
        self.totals[(store_id, sku)][column] += quantity
        self.last_event[(store_id, sku)] = event_id

    @classmethod
    def of(
        cls,
        sold: Iterable[SaleLine],
        returned: Iterable[ReturnedLine],
        moved: Iterable[StockMovement],
    ) -> StockDeltas:
        """Sales take stock away; returns, goods received, adjustments and transfers
        (signed) add."""
        deltas = cls()
        for line in sold:
            deltas.add(line.store_id, line.sku, line.event_id, "total_sold", line.quantity_sold)
        for back in returned:
            deltas.add(
                back.store_id, back.sku, back.event_id, "total_returned", back.quantity_returned
            )
        for movement in moved:
            column = MOVEMENT_TOTAL[movement.kind]
            deltas.add(
                movement.store_id, movement.sku, movement.event_id, column, movement.quantity
            )
        return deltas

    def keys(self) -> list[StockKey]:
        return sorted(self.totals)  # sorted: a stable lock order

    def upsert_rows(self) -> list[dict[str, str | int]]:
        """Rows to add to `stocks` (a new row starts from no opening stock)."""
        rows: list[dict[str, str | int]] = []
        for store, sku in self.keys():
            totals = self.totals[(store, sku)]
            change = sum(ON_HAND_SIGN[c] * totals[c] for c in STOCK_TOTALS)
            rows.append(
                {"store_id": store, "sku": sku, "stock_quantity": 0, "on_hand": change, **totals}
            )
        return rows

    def alerts(
        self, before: Mapping[StockKey, int], after: Iterable[StockLevel]
    ) -> list[StockAlert]:
        """A reorder-point crossing per SKU whose on hand went from above its reorder point
        to at or below it in this batch (once per crossing, checked per batch)."""
        return [
            StockAlert(
                store_id=level.store_id,
                sku=level.sku,
                on_hand=level.on_hand,
                reorder_point=level.reorder_point,
                event_id=self.last_event[(level.store_id, level.sku)],
            )
            for level in after
            if crossed_reorder_point(
                before.get((level.store_id, level.sku)), level.on_hand, level.reorder_point
            )
        ]


# --- the sales documents' read model -----------------------------------------------------


def canonical_json(value: str) -> str:
    """The event's JSON with sorted keys and no spaces: the same text from the Kafka
    message as from its copy in MongoDB (which a rebuild reads), so both write one row."""
    return json.dumps(json.loads(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sale_documents(
    new: Mapping[str, EventRecord],
    lines: Iterable[SaleLine],
    returned: Iterable[ReturnedLine],
) -> list[SaleDocument]:
    """The `sale_documents` rows of the new sales and of the returns accepted: each as
    recorded. The store, local date and UTC time come from its first line, as Spark
    read them (every applied event has a line)."""
    first_line: dict[str, SaleLine | ReturnedLine] = {}
    for sold in lines:
        first_line.setdefault(sold.event_id, sold)
    for back in returned:
        first_line.setdefault(back.event_id, back)
    found: list[SaleDocument] = []
    for event_id, event in new.items():
        line = first_line.get(event_id)
        if event.event_type not in (SALE_COMPLETED, SALE_RETURNED) or line is None:
            continue
        if event.value is None:
            raise ValueError(f"event {event_id} has no JSON to record")
        found.append(
            SaleDocument(
                event_type=event.event_type,
                document_id=event.document_id,
                sale_id=line.sale_id,
                event_id=event_id,
                store_id=line.store_id,
                local_date=line.sale_date if isinstance(line, SaleLine) else line.return_date,
                occurred_at=line.occurred_at,
                document=canonical_json(event.value),
            )
        )
    return found
