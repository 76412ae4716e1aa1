"""The stream job's rules on typed rows: no Spark, no database."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal

from pos_app.contract import (
    SALE_COMPLETED,
    SALE_RETURNED,
    STOCK_ADJUSTED,
    STOCK_RECEIVED,
    TRANSFER_RECEIVED,
    TRANSFER_SENT,
)
from stream_jobs import rules
from stream_jobs.rows import (
    EventRecord,
    MovementLine,
    ReturnedLine,
    SaleLine,
    SoldQuantity,
    StockLevel,
    StockMovement,
)


def event(
    event_id: str,
    document_id: str,
    *,
    kind: str = SALE_COMPLETED,
    offset: int = 0,
    partition: int = 0,
    sale_id: str | None = None,
) -> EventRecord:
    sale = sale_id if sale_id is not None else (document_id if kind == SALE_COMPLETED else None)
    return EventRecord.of(
        {
            "event_id": event_id,
            "event_type": kind,
            "document_id": document_id,
            "sale_id": sale,
            "kafka_topic": "pos.sales.v1",
            "kafka_partition": partition,
            "kafka_offset": offset,
            "value": "{}",
            "kafka_timestamp": None,
        }
    )


def sale_line(sale_id: str, line_no: int, sku: str, quantity: int, event_id: str) -> SaleLine:
    return SaleLine(
        line_id=f"{sale_id}:{line_no}",
        sale_id=sale_id,
        event_id=event_id,
        line_no=line_no,
        store_id="s1",
        register_id="r1",
        cashier="Ko Aung",
        sku=sku,
        product=f"Product {sku}",
        quantity_sold=quantity,
        price_each=Decimal("100.00"),
        sales=Decimal("100.00") * quantity,
        sale_date="2026-11-28",
        sale_time="10:00:00",
        day=28,
        month=11,
        year=2026,
        occurred_at="2026-11-28 03:30:00.000",
    )


def movement(
    record: EventRecord, line_no: int, sku: str, quantity: int, *, reason: str = "wrong size"
) -> MovementLine:
    priced = record.event_type == SALE_RETURNED
    return MovementLine(
        line_id=f"{record.document_id}:{line_no}",
        document_id=record.document_id,
        event_type=record.event_type,
        event_id=record.event_id,
        sale_id=record.sale_id,
        line_no=line_no,
        store_id="s1",
        register_id="r1" if priced else "",
        actor="Ma Hla",
        sku=sku,
        product=f"Product {sku}",
        quantity=quantity,
        price_each=Decimal("100.00") if priced else None,
        amount=Decimal("100.00") * quantity if priced else None,
        reason=reason,
        local_date="2026-11-29",
        month=11,
        year=2026,
        occurred_at="2026-11-29 03:30:00.000",
    )


# --- which events are new ----------------------------------------------------------------


def test_the_first_copy_in_kafka_order_of_each_unapplied_event() -> None:
    late, early = event("e1", "S1", offset=9), event("e1", "S1", offset=3)
    applied = event("e2", "S2", offset=1)
    other = event("e3", "S3", offset=2, partition=1)
    first = rules.first_unapplied([late, applied, other, early], {"e2"})
    assert list(first) == ["e1", "e3"]
    assert first["e1"].kafka_offset == 3


def test_a_document_recorded_under_another_event_id_is_refused() -> None:
    first = {
        "e1": event("e1", "S1"),
        "e2": event("e2", "S2", offset=1),
        "e3": event("e3", "S2", offset=2),  # the same sale again, new event id
        "e4": event("e4", "S1", kind=STOCK_RECEIVED, offset=3),  # another kind of document
    }
    new, refused = rules.refuse_recorded_documents(first, {(SALE_COMPLETED, "S1")})
    assert list(new) == ["e2", "e4"]
    assert [(r.event.event_id, r.reason) for r in refused] == [
        ("e1", "sale S1 already recorded under another event id"),
        ("e3", "sale S2 already recorded under another event id"),
    ]
    assert refused[0].as_rejected()["reason"] == refused[0].reason
    assert refused[0].as_rejected()["value"] == "{}"  # stored with what it came with


def test_lines_and_movements_of_new_events_once_each() -> None:
    sale, receipt = event("e1", "S1"), event("e2", "G1", kind=STOCK_RECEIVED)
    new = {"e1": sale, "e2": receipt}
    line = sale_line("S1", 1, "X", 2, "e1")
    old = sale_line("S0", 1, "X", 1, "e0")
    assert rules.lines_of([line, old, line], new) == [line]
    got = movement(receipt, 1, "X", 5)
    moved = rules.movements_by_event([got, got, movement(event("e9", "G9"), 1, "X", 1)], new)
    assert moved == {"e2": [got]}


# --- returns -----------------------------------------------------------------------------

SOLD = {("S1", 1): SoldQuantity("X", 2), ("S1", 2): SoldQuantity("Y", 1)}


def returned(record: EventRecord, *lines: tuple[int, str, int]) -> dict[str, list[MovementLine]]:
    return {record.event_id: [movement(record, n, sku, q) for n, sku, q in lines]}


def test_a_possible_return_becomes_sale_returns_rows() -> None:
    back = event("e5", "R1", kind=SALE_RETURNED, sale_id="S1")
    result = rules.accept_returns([back], returned(back, (2, "Y", 1), (1, "X", 1)), SOLD, {})
    assert result.refused == []
    assert [(r.line_no, r.quantity_returned, r.refund) for r in result.lines] == [
        (1, 1, Decimal("100.00")),
        (2, 1, Decimal("100.00")),
    ]
    row = result.lines[0].as_row()
    assert row["return_id"] == "R1" and row["cashier"] == "Ma Hla"
    assert row["return_date"] == "2026-11-29"
    assert "year" not in row and "month" not in row  # for the period tables only


def test_earlier_returns_limit_later_ones_in_kafka_order() -> None:
    first = event("e5", "R1", kind=SALE_RETURNED, sale_id="S1", offset=5)
    second = event("e6", "R2", kind=SALE_RETURNED, sale_id="S1", offset=6)
    moved = {**returned(first, (1, "X", 1)), **returned(second, (1, "X", 1))}
    result = rules.accept_returns([first, second], moved, SOLD, {("S1", 1): 1})
    assert [r.return_id for r in result.lines] == ["R1"]
    assert [(r.event.event_id, r.reason) for r in result.refused] == [
        ("e6", "return R2: line 1 returns 1 but only 0 of 2 can come back")
    ]


def test_impossible_returns_say_why() -> None:
    cases = {
        "S9": (
            (1, "X", 1),
            "return R1: sale S9 is not recorded",
        ),
        "S1": ((3, "X", 1), "return R1: sale S1 has no line 3 of X"),
    }
    for sale_id, (line, reason) in cases.items():
        back = event("e5", "R1", kind=SALE_RETURNED, sale_id=sale_id)
        result = rules.accept_returns([back], returned(back, line), SOLD, {})
        assert [r.reason for r in result.refused] == [reason]
        assert result.lines == []
    back = event("e5", "R1", kind=SALE_RETURNED, sale_id="S1")
    wrong_sku = rules.accept_returns([back], returned(back, (1, "Y", 1)), SOLD, {})
    assert [r.reason for r in wrong_sku.refused] == ["return R1: sale S1 has no line 1 of Y"]
    twice = rules.accept_returns([back], returned(back, (1, "X", 1), (1, "X", 1)), SOLD, {})
    assert [r.reason for r in twice.refused] == ["return R1: a line of the sale is named twice"]


# --- receipts, adjustments, stock, alerts ------------------------------------------------------


def test_receipts_and_adjustments_become_stock_movements() -> None:
    receipt = event("e1", "G1", kind=STOCK_RECEIVED)
    adjustment = event("e2", "A1", kind=STOCK_ADJUSTED)
    back = event("e3", "R1", kind=SALE_RETURNED, sale_id="S1")
    moved = {
        "e1": [movement(receipt, 1, "X", 24, reason="Mandalay Looms " * 20)],
        "e2": [movement(adjustment, 1, "Y", -2, reason="damage")],
        "e3": [movement(back, 1, "X", 1)],
    }
    rows = rules.stock_movements({"e1": receipt, "e2": adjustment, "e3": back}, moved)
    assert [(r.kind, r.sku, r.quantity) for r in rows] == [
        ("received", "X", 24),
        ("adjusted", "Y", -2),
    ]
    assert len(rows[0].reason) == 200  # the column's width
    assert rows[1].as_row()["recorded_by"] == "Ma Hla"


def _moved(kind: str, sku: str, quantity: int, event_id: str) -> StockMovement:
    return StockMovement(
        f"{event_id}:1", "G1", event_id, kind, "s1", sku, quantity, "", "m", "2026-11-29", ""
    )


def test_stock_moves_by_sales_returns_receipts_and_adjustments() -> None:
    back = ReturnedLine.of(movement(event("e3", "R1", kind=SALE_RETURNED, sale_id="S1"), 1, "X", 1))
    deltas = rules.StockDeltas.of(
        [sale_line("S1", 1, "X", 3, "e1"), sale_line("S2", 1, "Y", 1, "e2")],
        [back],
        [_moved("received", "X", 10, "e4"), _moved("adjusted", "Y", -2, "e5")],
    )
    assert deltas.upsert_rows() == [
        {
            "store_id": "s1",
            "sku": "X",
            "stock_quantity": 0,
            "on_hand": 8,  # -3 + 1 + 10
            "total_sold": 3,
            "total_received": 10,
            "total_returned": 1,
            "total_adjusted": 0,
            "total_transferred": 0,
        },
        {
            "store_id": "s1",
            "sku": "Y",
            "stock_quantity": 0,
            "on_hand": -3,
            "total_sold": 1,
            "total_received": 0,
            "total_returned": 0,
            "total_adjusted": -2,
            "total_transferred": 0,
        },
    ]
    assert deltas.last_event == {("s1", "X"): "e4", ("s1", "Y"): "e5"}


def test_a_transfer_takes_stock_from_the_sender_and_gives_it_to_the_receiver() -> None:
    sent = event("e1", "TR1", kind=TRANSFER_SENT)
    arrived = event("e2", "TR1-IN", kind=TRANSFER_RECEIVED)
    moved = {
        "e1": [movement(sent, 1, "X", 5, reason="to s2 TR1")],
        "e2": [replace(movement(arrived, 1, "X", 5, reason="from s1 TR1"), store_id="s2")],
    }
    rows = rules.stock_movements({"e1": sent, "e2": arrived}, moved)
    assert [(r.kind, r.store_id, r.sku, r.quantity) for r in rows] == [
        ("transfer_out", "s1", "X", -5),
        ("transfer_in", "s2", "X", 5),
    ]
    deltas = rules.StockDeltas.of([], [], rows)
    by_store = {row["store_id"]: row for row in deltas.upsert_rows()}
    assert by_store["s1"]["on_hand"] == -5 and by_store["s1"]["total_transferred"] == -5
    assert by_store["s2"]["on_hand"] == 5 and by_store["s2"]["total_transferred"] == 5
    assert by_store["s1"]["total_adjusted"] == by_store["s2"]["total_received"] == 0


def test_an_alert_per_crossing_naming_the_last_event() -> None:
    deltas = rules.StockDeltas.of(
        [
            sale_line("S1", 1, "X", 3, "e1"),
            sale_line("S2", 1, "X", 1, "e2"),
            sale_line("S2", 2, "Y", 1, "e2"),
            sale_line("S2", 3, "Z", 1, "e2"),
            sale_line("S2", 4, "N", 1, "e2"),
        ],
        [],
        [],
    )
    before = {("s1", "X"): 6, ("s1", "Y"): 3, ("s1", "Z"): 9}  # N: no stock row yet
    after = [
        StockLevel("s1", "X", 2, 4),  # 6 -> 2: crosses 4
        StockLevel("s1", "Y", 2, 4),  # 3 -> 2: was low already
        StockLevel("s1", "Z", 8, 4),  # still above
        StockLevel("s1", "N", -1, 0),  # a first row, at or below its point
    ]
    alerts = deltas.alerts(before, after)
    assert [(a.sku, a.on_hand, a.reorder_point, a.event_id) for a in alerts] == [
        ("X", 2, 4, "e2"),
        ("N", -1, 0, "e2"),
    ]
    assert alerts[0].as_row() == {
        "store_id": "s1",
        "sku": "X",
        "on_hand": 2,
        "reorder_point": 4,
        "event_id": "e2",
    }


def test_stock_keys_come_in_lock_order() -> None:
    lines = [sale_line("S1", 1, sku, 1, "e1") for sku in ("Z", "A", "M")]
    lines.append(replace(lines[0], store_id="s0"))
    assert rules.StockDeltas.of(lines, [], []).keys() == [
        ("s0", "Z"),
        ("s1", "A"),
        ("s1", "M"),
        ("s1", "Z"),
    ]


# --- the sales documents' read model -----------------------------------------------------


def test_sales_and_accepted_returns_are_kept_as_recorded() -> None:
    sale = EventRecord.of(
        {
            **event("e1", "S1").source,
            "value": (
                '{"sale_id": "S1", "event_type": "sale.completed",\n "lines": [{"b": 1, "a": "ü"}]}'
            ),
        }
    )
    back = EventRecord.of({**event("e5", "R1", kind=SALE_RETURNED, sale_id="S1").source})
    receipt = event("e2", "G1", kind=STOCK_RECEIVED)
    line = sale_line("S1", 1, "X", 2, "e1")
    returned_line = ReturnedLine.of(movement(back, 1, "X", 1))
    found = rules.sale_documents({"e1": sale, "e5": back, "e2": receipt}, [line], [returned_line])
    assert [(d.event_type, d.document_id, d.sale_id, d.local_date) for d in found] == [
        (SALE_COMPLETED, "S1", "S1", "2026-11-28"),
        (SALE_RETURNED, "R1", "S1", "2026-11-29"),
    ]
    assert found[0].document == (
        '{"event_type":"sale.completed","lines":[{"a":"ü","b":1}],"sale_id":"S1"}'
    )
    assert found[0].occurred_at == line.occurred_at and found[0].store_id == "s1"
    assert found[0].as_row()["event_id"] == "e1"


def test_a_refused_return_keeps_no_document() -> None:
    back = event("e5", "R1", kind=SALE_RETURNED, sale_id="S1")
    assert rules.sale_documents({"e5": back}, [], []) == []  # its lines were not accepted


def test_the_json_is_the_same_from_kafka_and_from_mongodb() -> None:
    sent = '{"sale_id":"S1","totals":{"total":"45000.00","items":1},"n":1}'
    stored_copy = json.dumps(json.loads(sent))  # what a rebuild reads back, re-encoded
    assert rules.canonical_json(sent) == rules.canonical_json(stored_copy)
