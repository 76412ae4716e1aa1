"""The typed rows the stream job's rules work on: what Spark hands over for each event
and line (`transform.py` shapes them), and what lands in the MySQL tables. Plain
dataclasses, no Spark and no database, so the rules are tested on their own."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from pos_app.contract import STOCK_RECEIVED, TRANSFER_RECEIVED, TRANSFER_SENT

# The `stock_movements` kind of each inventory event type.
MOVEMENT_KIND = {
    STOCK_RECEIVED: "received",
    TRANSFER_SENT: "transfer_out",
    TRANSFER_RECEIVED: "transfer_in",
}


@dataclass(frozen=True)
class EventRecord:
    """A valid classified event with its Kafka position (`sales_stream.RECORD_COLUMNS`)."""

    event_id: str
    event_type: str
    document_id: str  # the sale, return, receipt or adjustment id
    sale_id: str | None
    kafka_topic: str
    kafka_partition: int
    kafka_offset: int
    value: str | None = None  # the JSON as received
    kafka_timestamp: datetime | None = None
    # The record as Spark gave it, so a refused event is stored with all it came with.
    source: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> EventRecord:
        return cls(
            event_id=row["event_id"],
            event_type=row["event_type"],
            document_id=row["document_id"],
            sale_id=row.get("sale_id"),
            kafka_topic=row["kafka_topic"],
            kafka_partition=row["kafka_partition"],
            kafka_offset=row["kafka_offset"],
            value=row.get("value"),
            kafka_timestamp=row.get("kafka_timestamp"),
            source=row,
        )

    @property
    def position(self) -> tuple[str, int, int]:
        return (self.kafka_topic, self.kafka_partition, self.kafka_offset)


@dataclass(frozen=True)
class Refusal:
    """An event the rules will not apply, and why (stored with the rejected events)."""

    event: EventRecord
    reason: str

    def as_rejected(self) -> dict[str, Any]:
        return {**self.event.source, "reason": self.reason}


@dataclass(frozen=True)
class SaleLine:
    """A line of a sale: one `sales` row (`transform.sale_line_rows`)."""

    line_id: str
    sale_id: str
    event_id: str
    line_no: int
    store_id: str
    register_id: str
    cashier: str
    sku: str
    product: str
    quantity_sold: int
    price_each: Decimal
    sales: Decimal
    sale_date: str  # shop-local, yyyy-mm-dd
    sale_time: str
    day: int
    month: int
    year: int
    occurred_at: str  # UTC
    unit_cost: Decimal | None = None  # the cost price when sold; None: not known

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> SaleLine:
        fields = {name: row[name] for name in cls.__dataclass_fields__ if name != "unit_cost"}
        return cls(**fields, unit_cost=row.get("unit_cost"))

    @property
    def cost(self) -> Decimal | None:
        return None if self.unit_cost is None else self.unit_cost * self.quantity_sold

    def as_row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class MovementLine:
    """A line of a return, receipt or adjustment (`transform.movement_rows`): quantity is
    signed as it moves stock (returns and receipts add)."""

    line_id: str
    document_id: str
    event_type: str
    event_id: str
    sale_id: str | None
    line_no: int
    store_id: str
    register_id: str
    actor: str  # the cashier, or who recorded the movement
    sku: str
    product: str
    quantity: int
    price_each: Decimal | None  # returns only
    amount: Decimal | None
    reason: str  # the return's or adjustment's reason, or the supplier
    local_date: str
    month: int
    year: int
    occurred_at: str  # UTC

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> MovementLine:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class ReturnedLine:
    """A `sale_returns` row, with the local year and month for the period tables."""

    line_id: str
    return_id: str
    sale_id: str
    event_id: str
    line_no: int
    store_id: str
    register_id: str
    cashier: str
    sku: str
    product: str
    quantity_returned: int
    price_each: Decimal
    refund: Decimal
    reason: str
    return_date: str
    occurred_at: str
    year: int
    month: int
    unit_cost: Decimal | None = None  # the sold line's cost price, for the period tables

    @classmethod
    def of(cls, line: MovementLine, *, unit_cost: Decimal | None = None) -> ReturnedLine:
        if line.sale_id is None or line.price_each is None or line.amount is None:
            raise ValueError(f"{line.line_id}: a returned line needs its sale and price")
        return cls(
            line_id=line.line_id,
            return_id=line.document_id,
            sale_id=line.sale_id,
            event_id=line.event_id,
            line_no=line.line_no,
            store_id=line.store_id,
            register_id=line.register_id,
            cashier=line.actor,
            sku=line.sku,
            product=line.product,
            quantity_returned=line.quantity,
            price_each=line.price_each,
            refund=line.amount,
            reason=line.reason[:200],
            return_date=line.local_date,
            occurred_at=line.occurred_at,
            year=line.year,
            month=line.month,
            unit_cost=unit_cost,
        )

    @property
    def cost(self) -> Decimal | None:
        return None if self.unit_cost is None else self.unit_cost * self.quantity_returned

    def as_row(self) -> dict[str, Any]:
        """The `sale_returns` columns (year, month and cost are for the period tables)."""
        return {
            name: getattr(self, name)
            for name in self.__dataclass_fields__
            if name not in ("year", "month", "unit_cost")
        }


@dataclass(frozen=True)
class StockMovement:
    """A `stock_movements` row: goods received, an adjustment, or a transfer's side."""

    line_id: str
    document_id: str
    event_id: str
    kind: str  # received | adjusted | transfer_out | transfer_in
    store_id: str
    sku: str
    quantity: int
    reason: str
    recorded_by: str
    movement_date: str
    occurred_at: str

    @classmethod
    def of(cls, line: MovementLine) -> StockMovement:
        return cls(
            line_id=line.line_id,
            document_id=line.document_id,
            event_id=line.event_id,
            kind=MOVEMENT_KIND.get(line.event_type, "adjusted"),
            store_id=line.store_id,
            sku=line.sku,
            # Signed as it moves the store's stock: goods sent away leave it.
            quantity=-line.quantity if line.event_type == TRANSFER_SENT else line.quantity,
            reason=line.reason[:200],
            recorded_by=line.actor[:60],
            movement_date=line.local_date,
            occurred_at=line.occurred_at,
        )

    def as_row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class SoldQuantity:
    """What a recorded sale line says for a return: its SKU and how many were sold."""

    sku: str
    quantity_sold: int
    unit_cost: Decimal | None = None


@dataclass(frozen=True)
class StockLevel:
    """A `stocks` row after the batch, with the product's reorder point."""

    store_id: str
    sku: str
    on_hand: int
    reorder_point: int


@dataclass(frozen=True)
class StockAlert:
    """A `stock_alerts` row: on hand crossed the reorder point with this event."""

    store_id: str
    sku: str
    on_hand: int
    reorder_point: int
    event_id: str

    def as_row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class SaleDocument:
    """A `sale_documents` row: a sale or a return as recorded, for receipts and returns."""

    event_type: str
    document_id: str
    sale_id: str
    event_id: str
    store_id: str
    local_date: str
    occurred_at: str  # UTC
    document: str  # the event's JSON, keys sorted, no spaces

    def as_row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}
