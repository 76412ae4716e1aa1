"""Each sale's and return's totals in the books: items, discount, commercial tax and what
the customer paid, as a row of `sale_totals`. The tax is recomputed by the stream job with
the counter's own rule (pos_app/tax.py) from the mode and rate the event states and what
its lines charge; like line totals, the event's own figures are not trusted. Pure
functions; PaymentBook (payments.py) stores the rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pos_app.contract import SALE_COMPLETED
from pos_app.tax import TaxBreakdown, tax_on

CENT = Decimal("0.01")


class TotalsProblem(ValueError):
    """Why an event's tax or discount cannot be booked (the event is rejected with it)."""


@dataclass(frozen=True)
class TotalsRow:
    document_id: str  # the sale or return id
    sale_id: str
    event_id: str
    kind: Literal["sale", "refund"]
    store_id: str
    register_id: str
    cashier: str
    items: int  # negative for a refund, as are the amounts below
    discount: Decimal
    base: Decimal  # what the lines charge
    tax_mode: str  # none | included | added
    tax_rate: Decimal
    tax: Decimal
    net: Decimal  # base less tax included in it
    total: Decimal  # what the customer paid (or got back)
    doc_date: date  # shop-local
    occurred_at: str  # UTC

    def as_row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def _decimal(value: object, what: str) -> Decimal:
    try:
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise InvalidOperation
        number = Decimal(str(value))
    except InvalidOperation:
        raise TotalsProblem(f"{what} must be a decimal string") from None
    if not number.is_finite():
        raise TotalsProblem(f"{what} must be a decimal string")
    return number


def event_tax(event: Mapping[str, Any], base: Decimal) -> TaxBreakdown:
    """The tax of a sale or return whose lines charge `base`, by the event's mode and rate
    (mode `none` when the event has no tax)."""
    stated = event.get("tax")
    if stated is None:
        return tax_on(base, "none", Decimal(0))
    if not isinstance(stated, Mapping):
        raise TotalsProblem("tax must be an object")
    mode = stated.get("mode")
    if mode not in ("none", "included", "added"):
        raise TotalsProblem("tax: mode must be included or added")
    percent = _decimal(stated.get("rate"), "tax: rate")
    if not 0 <= percent <= 100 or percent != percent.quantize(CENT):
        raise TotalsProblem("tax: rate must be a percentage from 0 to 100, to the hundredth")
    return tax_on(base, mode, percent)


def line_discounts(event: Mapping[str, Any]) -> Decimal:
    """The money the sale's line discounts took off (0 for an event without any)."""
    given = Decimal(0)
    for n, line in enumerate(event.get("lines") or [], start=1):
        if isinstance(line, Mapping) and line.get("discount") is not None:
            amount = _decimal(line["discount"], f"line {line.get('line_no', n)}: discount")
            if amount < 0:
                raise TotalsProblem(f"line {line.get('line_no', n)}: discount is negative")
            given += amount.quantize(CENT)
    return given


def totals_row(
    event: Mapping[str, Any], tax: TaxBreakdown, *, items: int, occurred_at: str
) -> TotalsRow:
    """The `sale_totals` row of a valid sale or return (tax computed by `event_tax`)."""
    sale = event["event_type"] == SALE_COMPLETED
    sign = 1 if sale else -1
    local = date.fromisoformat(str(event["occurred_at"])[:10])
    return TotalsRow(
        document_id=str(event["sale_id"] if sale else event["return_id"]),
        sale_id=str(event["sale_id"]),
        event_id=str(event["event_id"]),
        kind="sale" if sale else "refund",
        store_id=str(event["store_id"]),
        register_id=str(event.get("register_id") or ""),
        cashier=str(event.get("cashier") or "")[:60],
        items=sign * items,
        discount=line_discounts(event) if sale else Decimal(0),
        base=sign * tax.base,
        tax_mode=tax.mode,
        tax_rate=tax.rate,
        tax=sign * tax.tax,
        net=sign * tax.net,
        total=sign * tax.total,
        doc_date=local,
        occurred_at=occurred_at,
    )
