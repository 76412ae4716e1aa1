"""Payments in the books: each sale's tenders and each return's refund as rows of
`sale_payments`, written by the stream job in the transaction that applies the event.

`payment_rows` is a pure function (an event's JSON in, typed rows out, or the reason the
event cannot be booked); `PaymentBook` is the thin adapter the sinks call. Amounts are
signed: a sale's tenders come in (+), a refund goes out (-), so a sum by method is
what that method brought in, net."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from sqlalchemy.dialects.mysql import insert

from pos_app.contract import SALE_COMPLETED, SALE_RETURNED
from pos_app.db.tables import sale_payments, sale_totals
from stream_jobs.rows import EventRecord, Refusal
from stream_jobs.totals import TotalsProblem, TotalsRow, event_tax, totals_row

CENT = Decimal("0.01")
METHOD_MAX = 20
REFERENCE_MAX = 64
# A sale event without `payment` (none the app makes; hand-made or old imports) is
# booked under this method, so every sale's money is somewhere in the payment report.
UNRECORDED = "unrecorded"
# `refund_method` came after `sale.returned`; every refund before it was paid in cash.
DEFAULT_REFUND_METHOD = "cash"


class PaymentProblem(ValueError):
    """Why an event's payments cannot be booked (the event is rejected with it)."""


@dataclass(frozen=True)
class PaymentRow:
    payment_id: str  # "<sale or return id>:<n>"
    document_id: str  # the sale id for a sale's tenders, the return id for a refund
    sale_id: str
    event_id: str
    kind: Literal["sale", "refund"]
    store_id: str
    register_id: str
    cashier: str
    method: str
    amount: Decimal  # + came in, - went out
    reference: str | None  # the wallet's or card terminal's transaction id
    payment_date: date  # shop-local, as the event's occurred_at states it
    occurred_at: str  # UTC, as the stream job renders it for the other tables

    def as_row(self) -> dict[str, Any]:
        # Not dataclasses.asdict: its deep copies took seconds a batch of 20,000 sales.
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def _money(value: object, what: str) -> Decimal:
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise PaymentProblem(f"{what} must be a decimal string")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise PaymentProblem(f"{what} must be a decimal string") from None
    if not amount.is_finite() or amount < 0:
        raise PaymentProblem(f"{what} must be a non-negative decimal string")
    return amount.quantize(CENT)


def _method(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PaymentProblem(f"{what} needs a method")
    method = value.strip().lower()
    if len(method) > METHOD_MAX:
        raise PaymentProblem(f"{what}: method is longer than {METHOD_MAX} characters")
    return method


def _reference(value: object, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise PaymentProblem(f"{what}: reference must be a string")
    value = value.strip()
    if len(value) > REFERENCE_MAX:
        raise PaymentProblem(f"{what}: reference is longer than {REFERENCE_MAX} characters")
    return value or None


def payment_rows(
    event: Mapping[str, Any], *, charged: Decimal, occurred_at: str
) -> list[PaymentRow]:
    """The payment rows of one valid sale or return event.

    charged: what the customer paid or got back as the stream job books it (its lines,
    plus tax added on top); it is the amount of an unrecorded payment and of a refund.
    occurred_at: the event's time in UTC as the other tables store it."""
    kind = event["event_type"]
    local = date.fromisoformat(str(event["occurred_at"])[:10])

    def row(
        n: int, document: str, method: str, amount: Decimal, reference: str | None
    ) -> PaymentRow:
        return PaymentRow(
            payment_id=f"{document}:{n}",
            document_id=document,
            sale_id=str(event["sale_id"]),
            event_id=str(event["event_id"]),
            kind="sale" if kind == SALE_COMPLETED else "refund",
            store_id=str(event["store_id"]),
            register_id=str(event.get("register_id") or ""),
            cashier=str(event.get("cashier") or "")[:60],
            method=method,
            amount=amount,
            reference=reference,
            payment_date=local,
            occurred_at=occurred_at,
        )

    if kind == SALE_RETURNED:
        method = event.get("refund_method")
        refund_method = (
            DEFAULT_REFUND_METHOD if method is None else _method(method, "refund_method")
        )
        return [row(1, str(event["return_id"]), refund_method, -charged, None)]
    if kind != SALE_COMPLETED:
        return []
    sale_id = str(event["sale_id"])
    summary = event.get("payment")
    tenders = event.get("payments")
    if tenders is not None:
        if not isinstance(tenders, list) or not tenders:
            raise PaymentProblem("payments must be a list of tenders")
        parts = tenders
    elif summary is None:
        return [row(1, sale_id, UNRECORDED, charged, None)]
    elif not isinstance(summary, Mapping):
        raise PaymentProblem("payment must be an object")
    elif str(summary.get("method", "")).strip().lower() == "split":
        raise PaymentProblem("a split payment needs its tenders in payments")
    else:
        parts = [summary]
    rows = []
    for n, part in enumerate(parts, start=1):
        what = f"payment {n}"
        if not isinstance(part, Mapping):
            raise PaymentProblem(f"{what} must be an object")
        rows.append(
            row(
                n,
                sale_id,
                _method(part.get("method"), what),
                _money(part.get("amount"), f"{what}: amount"),
                _reference(part.get("reference"), what),
            )
        )
    return rows


class PaymentBook:
    """What one micro-batch books: the payment and totals rows of its new sales and
    returns."""

    def __init__(self) -> None:
        self.rows: dict[str, list[PaymentRow]] = {}  # by event id
        self.totals: dict[str, TotalsRow] = {}  # by event id

    @classmethod
    def of(
        cls,
        new: dict[str, EventRecord],
        lines: Sequence[Mapping[str, Any]],
        movements: Sequence[Mapping[str, Any]],
        refused: list[Refusal],
    ) -> PaymentBook:
        """The rows of the new events; an event whose payments are unusable moves from
        `new` to `refused` with the reason, before anything of it is written."""
        book = cls()
        charged: dict[str, Decimal] = {}
        items: dict[str, int] = {}
        occurred: dict[str, str] = {}
        seen: set[str] = set()  # an event delivered twice in a batch has its lines twice
        for line in lines:
            if line["line_id"] in seen:
                continue
            seen.add(line["line_id"])
            charged[line["event_id"]] = charged.get(line["event_id"], Decimal(0)) + line["sales"]
            items[line["event_id"]] = items.get(line["event_id"], 0) + line["quantity_sold"]
            occurred[line["event_id"]] = line["occurred_at"]
        for move in movements:
            if move["event_type"] != SALE_RETURNED or move["line_id"] in seen:
                continue
            seen.add(move["line_id"])
            charged[move["event_id"]] = charged.get(move["event_id"], Decimal(0)) + move["amount"]
            items[move["event_id"]] = items.get(move["event_id"], 0) + move["quantity"]
            occurred[move["event_id"]] = move["occurred_at"]
        for event_id, record in list(new.items()):
            if record.event_type not in (SALE_COMPLETED, SALE_RETURNED):
                continue
            event = json.loads(record.value or "{}")
            when = occurred.get(event_id, "")
            try:
                # What the customer paid or got back: the lines, and tax added on top.
                tax = event_tax(event, charged.get(event_id, Decimal(0)))
                book.rows[event_id] = payment_rows(event, charged=tax.total, occurred_at=when)
                book.totals[event_id] = totals_row(
                    event, tax, items=items.get(event_id, 0), occurred_at=when
                )
            except (PaymentProblem, TotalsProblem) as problem:
                what = "sale" if record.event_type == SALE_COMPLETED else "return"
                refused.append(Refusal(record, f"{what} {record.document_id}: {problem}"))
                del new[event_id]
        return book

    def store(self, conn: Any, applied: Mapping[str, object]) -> int:
        """Insert the rows of the events still applied (a refused return has none)."""
        rows = [
            row.as_row()
            for event_id, rows in self.rows.items()
            if event_id in applied
            for row in rows
        ]
        if rows:
            conn.execute(insert(sale_payments), rows)
        totals = [row.as_row() for event_id, row in self.totals.items() if event_id in applied]
        if totals:
            conn.execute(insert(sale_totals), totals)
        return len(rows)
