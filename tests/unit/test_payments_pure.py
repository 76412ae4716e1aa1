"""The payment rows the stream job books for a sale or a return (stream_jobs/payments.py)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from stream_jobs.payments import PaymentBook, PaymentProblem, payment_rows
from stream_jobs.rows import EventRecord, Refusal
from tests.factories import return_event, sale_event

UTC_TIME = "2026-11-28 03:45:00.000"


def test_one_payment_is_one_row_on_the_local_day() -> None:
    event = sale_event([("TKP-BLK-M", 2, "45000")], occurred_at="2026-11-29T00:10:00+06:30")
    (row,) = payment_rows(event, charged=Decimal(90000), occurred_at=UTC_TIME)
    assert (row.method, row.amount, row.kind) == ("cash", Decimal("90000.00"), "sale")
    assert row.payment_id == f"{event['sale_id']}:1"
    assert row.payment_date == date(2026, 11, 29)  # local, though it is the 28th in UTC
    assert row.reference is None


def test_a_split_books_each_tender_with_its_reference() -> None:
    event = sale_event([("TKP-BLK-M", 1, "72000")])
    event["payment"] = {"method": "split", "amount": "72000", "tendered": "30000"}
    event["payments"] = [
        {"method": "cash", "amount": "22000.00", "tendered": "30000", "change": "8000"},
        {"method": "kbzpay", "amount": "50000.00", "reference": " 0112345678 "},
    ]
    rows = payment_rows(event, charged=Decimal(72000), occurred_at=UTC_TIME)
    assert [(r.method, r.amount, r.reference) for r in rows] == [
        ("cash", Decimal("22000.00"), None),
        ("kbzpay", Decimal("50000.00"), "0112345678"),
    ]
    assert [r.payment_id.rsplit(":", 1)[1] for r in rows] == ["1", "2"]


def test_a_sale_without_payment_is_booked_as_unrecorded_for_what_it_charged() -> None:
    event = sale_event([("TKP-BLK-M", 1, "11.99")])
    del event["payment"]
    (row,) = payment_rows(event, charged=Decimal("11.99"), occurred_at=UTC_TIME)
    assert (row.method, row.amount) == ("unrecorded", Decimal("11.99"))


def test_a_refund_goes_out_by_its_method_and_old_returns_were_cash() -> None:
    event = return_event("S1", [(1, "TKP-BLK-M", 1, "45000")])
    (row,) = payment_rows(event, charged=Decimal(45000), occurred_at=UTC_TIME)
    assert (row.kind, row.method, row.amount) == ("refund", "cash", Decimal(-45000))
    assert row.document_id == event["return_id"] and row.sale_id == "S1"
    event["refund_method"] = "WavePay"
    (row,) = payment_rows(event, charged=Decimal(45000), occurred_at=UTC_TIME)
    assert row.method == "wavepay"


@pytest.mark.parametrize(
    ("payment", "problem"),
    [
        ({"method": "cash", "amount": 45000.5}, "payment 1: amount must be a decimal string"),
        ({"method": "cash", "amount": "lots"}, "payment 1: amount must be a decimal string"),
        ({"method": "cash", "amount": "-5"}, "payment 1: amount must be a non-negative"),
        ({"amount": "5"}, "payment 1 needs a method"),
        ({"method": "split", "amount": "5"}, "a split payment needs its tenders in payments"),
        ({"method": "kbzpay", "amount": "5", "reference": "x" * 65}, "reference is longer"),
    ],
)
def test_unusable_payments_say_why(payment: dict[str, Any], problem: str) -> None:
    event = sale_event([("TKP-BLK-M", 1, "5")])
    event["payment"] = payment
    with pytest.raises(PaymentProblem, match=problem):
        payment_rows(event, charged=Decimal(5), occurred_at=UTC_TIME)


def _record(event: dict[str, Any]) -> EventRecord:
    return EventRecord(
        event_id=event["event_id"],
        event_type=event["event_type"],
        document_id=event.get("return_id") or event["sale_id"],
        sale_id=event["sale_id"],
        kafka_topic="t",
        kafka_partition=0,
        kafka_offset=0,
        value=json.dumps(event),
    )


def test_the_book_refuses_a_sale_with_a_bad_payment_and_counts_lines_once() -> None:
    good = sale_event([("TKP-BLK-M", 2, "45000")])
    bad = sale_event([("TKP-BLK-M", 1, "45000")])
    bad["payment"] = {"method": "cash", "amount": "forty"}
    del good["payment"]
    new = {e["event_id"]: _record(e) for e in (good, bad)}
    line = {
        "line_id": f"{good['sale_id']}:1",
        "event_id": good["event_id"],
        "sales": Decimal(90000),
        "quantity_sold": 2,
        "occurred_at": UTC_TIME,
    }
    refused: list[Refusal] = []
    book = PaymentBook.of(new, [line, line], [], refused)  # delivered twice in the batch
    assert list(new) == [good["event_id"]]
    assert refused[0].reason == (
        f"sale {bad['sale_id']}: payment 1: amount must be a decimal string"
    )
    (row,) = book.rows[good["event_id"]]
    assert row.amount == Decimal(90000)
