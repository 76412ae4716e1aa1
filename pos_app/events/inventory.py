"""Inventory events, version 1: goods received (`stock.received`) and stock adjustments
(`stock.adjusted`). They travel on the inventory topic keyed by store."""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

STOCK_RECEIVED: Final = "stock.received"
STOCK_ADJUSTED: Final = "stock.adjusted"
AdjustmentReason = Literal["count", "damage", "loss", "found", "other"]


class MovementLine(BaseModel):
    line_no: int = Field(ge=1)
    sku: str
    quantity: int  # received: > 0; adjusted: signed, never 0


class _InventoryEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    schema_version: Literal[1] = 1
    event_id: str
    store_id: str
    recorded_by: str
    occurred_at: datetime  # shop-local time with its offset
    note: str = ""
    lines: list[MovementLine] = Field(min_length=1)

    def to_kafka(self) -> tuple[bytes, bytes]:
        return self.store_id.encode(), self.model_dump_json().encode()


class StockReceived(_InventoryEvent):
    event_type: Literal["stock.received"] = STOCK_RECEIVED
    receipt_id: str
    supplier: str = ""


class StockAdjusted(_InventoryEvent):
    event_type: Literal["stock.adjusted"] = STOCK_ADJUSTED
    adjustment_id: str
    reason: AdjustmentReason
