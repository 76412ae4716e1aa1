"""Commercial tax in the books: each taxed sale's and return's tax as a row of
`sale_taxes`, recomputed by the stream job with the counter's own rule (pos_app/tax.py)
from the mode and rate the event states and what its lines charge; like line totals,
the event's own tax figure is not trusted. Pure functions; PaymentBook stores the rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pos_app.tax import TaxBreakdown, tax_on
from stream_jobs.schema import SALE_COMPLETED

CENT = Decimal("0.01")


class TaxProblem(ValueError):
    """Why an event's tax cannot be booked (the event is rejected with it)."""


@dataclass(frozen=True)
class TaxRow:
    document_id: str  # the sale or return id
    sale_id: str
    event_id: str
    kind: Literal["sale", "refund"]
    store_id: str
    register_id: str
    mode: str  # included | added
    rate: Decimal
    base: Decimal  # what the lines charge; negative for a refund
    tax: Decimal  # negative for a refund
    net: Decimal  # base less any tax included in it
    tax_date: date  # shop-local
    occurred_at: str  # UTC


def event_tax(event: Mapping[str, Any], base: Decimal) -> TaxBreakdown:
    """The tax of a sale or return whose lines charge `base`, by the event's mode and rate
    (mode `none` when the event has no tax)."""
    stated = event.get("tax")
    if stated is None:
        return tax_on(base, "none", Decimal(0))
    if not isinstance(stated, Mapping):
        raise TaxProblem("tax must be an object")
    mode = stated.get("mode")
    if mode not in ("none", "included", "added"):
        raise TaxProblem("tax: mode must be included or added")
    rate = stated.get("rate")
    try:
        if not isinstance(rate, str | int) or isinstance(rate, bool):
            raise InvalidOperation
        percent = Decimal(str(rate))
    except InvalidOperation:
        raise TaxProblem("tax: rate must be a decimal string") from None
    if not percent.is_finite() or not 0 <= percent <= 100 or percent != percent.quantize(CENT):
        raise TaxProblem("tax: rate must be a percentage from 0 to 100, to the hundredth")
    return tax_on(base, mode, percent)


def tax_row(
    event: Mapping[str, Any], breakdown: TaxBreakdown, *, occurred_at: str
) -> TaxRow | None:
    """The `sale_taxes` row of a taxed sale or return; None when it carries no tax."""
    if not breakdown.applies:
        return None
    sale = event["event_type"] == SALE_COMPLETED
    sign = 1 if sale else -1
    local = date.fromisoformat(str(event["occurred_at"])[:10])
    return TaxRow(
        document_id=str(event["sale_id"] if sale else event["return_id"]),
        sale_id=str(event["sale_id"]),
        event_id=str(event["event_id"]),
        kind="sale" if sale else "refund",
        store_id=str(event["store_id"]),
        register_id=str(event.get("register_id") or ""),
        mode=breakdown.mode,
        rate=breakdown.rate,
        base=sign * breakdown.base,
        tax=sign * breakdown.tax,
        net=sign * breakdown.net,
        tax_date=local,
        occurred_at=occurred_at,
    )
