"""The `sale.returned` event, version 1: goods brought back from an earlier sale.

It travels on the sales topic keyed by the original sale id, so it reaches the stream
job after the sale it returns from (same partition, in order)."""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from pos_app.events.schemas import EventTax, Money

SALE_RETURNED: Final = "sale.returned"


class ReturnLine(BaseModel):
    line_no: int = Field(ge=1)  # the line of the original sale
    sku: str
    name: str
    quantity: int = Field(gt=0)
    unit_price: Money  # refunded per unit: the price the sale charged
    line_total: Money


class ReturnTotals(BaseModel):
    items: int
    refund: Money


class SaleReturned(BaseModel):
    model_config = ConfigDict(frozen=True)

    event_type: Literal["sale.returned"] = SALE_RETURNED
    schema_version: Literal[1] = 1
    event_id: str
    return_id: str
    sale_id: str
    store_id: str
    register_id: str
    cashier: str
    occurred_at: datetime  # shop-local time with its offset
    currency: str
    reason: str
    lines: list[ReturnLine] = Field(min_length=1)
    totals: ReturnTotals
    # Additive (still v1): how the refund was paid out; events without it were cash.
    refund_method: str | None = Field(default=None, exclude_if=lambda v: v is None)
    # Additive (still v1): the sale's tax on what comes back; totals.refund includes it
    # when the tax was added on top.
    tax: EventTax | None = Field(default=None, exclude_if=lambda v: v is None)

    def to_kafka(self) -> tuple[bytes, bytes]:
        return self.sale_id.encode(), self.model_dump_json().encode()
