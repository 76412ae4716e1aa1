"""The `sale.completed` event, version 1: the contract between the counter and the
pipeline (docs/events.md describes it for people). Money travels as decimal strings."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from pos_app.tax import TaxBreakdown

SALE_COMPLETED: Final = "sale.completed"
SCHEMA_VERSION: Final = 1

# Decimal in Python, a plain decimal string on the wire ("45000.00", never a float).
Money = Annotated[Decimal, PlainSerializer(lambda d: f"{d:.2f}", return_type=str)]


def _absent(value: object) -> bool:
    # Additive fields are left out of the JSON when unset, so events without a discount
    # or a split look exactly as they always did.
    return value is None


class EventLine(BaseModel):
    line_no: int = Field(ge=1)
    sku: str
    name: str
    quantity: int = Field(gt=0)
    unit_price: Money  # the price charged per unit, after any line discount
    line_total: Money
    # Additive (still v1): set only on a discounted line. list_price is the catalog
    # price, discount the money taken off the whole line; unit_price is already net, so
    # consumers that know nothing of discounts charge the right amount.
    list_price: Money | None = Field(default=None, exclude_if=_absent)
    discount_percent: Decimal | None = Field(default=None, exclude_if=_absent)
    discount: Money | None = Field(default=None, exclude_if=_absent)
    discount_reason: str | None = Field(default=None, exclude_if=_absent)


class EventTotals(BaseModel):
    items: int
    subtotal: Money
    discount: Money
    total: Money  # what the customer pays: the lines, plus the tax when it is added on top
    # Additive (still v1): the commercial tax in (included) or on (added) the total.
    tax: Money | None = Field(default=None, exclude_if=_absent)

    @classmethod
    def of(cls, lines: list[EventLine]) -> EventTotals:
        """The totals of lines: subtotal at list prices, the discounts, what is charged."""
        total = sum((line.line_total for line in lines), Decimal(0))
        discount = sum((line.discount or Decimal(0) for line in lines), Decimal(0))
        return cls(
            items=sum(line.quantity for line in lines),
            subtotal=total + discount,
            discount=discount,
            total=total,
        )


class EventTax(BaseModel):
    """Additive (still v1): the shop's commercial tax as applied (pos_app/tax.py): once
    per receipt, on what the lines charge (`base`), half up to the kyat."""

    mode: Literal["included", "added"]
    rate: Decimal  # percent
    base: Money
    amount: Money  # the tax

    @classmethod
    def of(cls, breakdown: TaxBreakdown) -> EventTax | None:
        if breakdown.mode == "none":
            return None
        return cls(
            mode=breakdown.mode, rate=breakdown.rate, base=breakdown.base, amount=breakdown.tax
        )


class EventPayment(BaseModel):
    method: str
    amount: Money
    tendered: Money | None = None
    change: Money | None = None
    # Additive (still v1): the wallet's or card terminal's transaction id, typed or
    # scanned at the counter; the stream job books it with the payment.
    reference: str | None = Field(default=None, max_length=64, exclude_if=_absent)


class SaleCompleted(BaseModel):
    model_config = ConfigDict(frozen=True)

    event_type: Literal["sale.completed"] = SALE_COMPLETED
    schema_version: Literal[1] = SCHEMA_VERSION
    event_id: str
    sale_id: str
    store_id: str
    register_id: str
    cashier: str
    occurred_at: datetime  # shop-local time with its offset
    currency: str
    lines: list[EventLine] = Field(min_length=1)
    totals: EventTotals
    payment: EventPayment
    # Additive (still v1): every tender of the sale. A split sale has two, and `payment`
    # then says method "split" with the whole amount (and the cash part's tendered/change).
    payments: list[EventPayment] | None = Field(default=None, exclude_if=_absent)
    tax: EventTax | None = Field(default=None, exclude_if=_absent)

    def to_kafka(self) -> tuple[bytes, bytes]:
        """(key, value) for the sales topic: keyed by sale id, so a sale stays in order."""
        return self.sale_id.encode(), self.model_dump_json().encode()
