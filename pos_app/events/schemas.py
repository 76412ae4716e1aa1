"""The `sale.completed` event, version 1: the contract between the counter and the
pipeline (docs/events.md describes it for people). Money travels as decimal strings."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

SALE_COMPLETED: Final = "sale.completed"
SCHEMA_VERSION: Final = 1

# Decimal in Python, a plain decimal string on the wire ("45000.00", never a float).
Money = Annotated[Decimal, PlainSerializer(lambda d: f"{d:.2f}", return_type=str)]


class EventLine(BaseModel):
    line_no: int = Field(ge=1)
    sku: str
    name: str
    quantity: int = Field(gt=0)
    unit_price: Money
    line_total: Money


class EventTotals(BaseModel):
    items: int
    subtotal: Money
    discount: Money
    total: Money

    @classmethod
    def of(cls, lines: list[EventLine]) -> EventTotals:
        """The totals of lines sold without a discount."""
        total = sum((line.line_total for line in lines), Decimal(0))
        return cls(
            items=sum(line.quantity for line in lines),
            subtotal=total,
            discount=Decimal(0),
            total=total,
        )


class EventPayment(BaseModel):
    method: str
    amount: Money
    tendered: Money | None = None
    change: Money | None = None


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

    def to_kafka(self) -> tuple[bytes, bytes]:
        """(key, value) for the sales topic: keyed by sale id, so a sale stays in order."""
        return self.sale_id.encode(), self.model_dump_json().encode()
