"""The event contract between the app and the stream job, in one place (docs/events.md
describes it for people): the v1 event models, the names both sides of Kafka use (event
types, topics, MongoDB collections, the stream query), and the rules both apply (the
adjustment reasons, the low-stock test, how much of a sale can come back).

Imported by the app (to produce events) and by the stream job (its Spark schema is
derived from these models in `stream_jobs/schema.py`). Pydantic only: no Spark, no
FastAPI, no database here. Money travels as decimal strings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal, get_args, overload

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

if TYPE_CHECKING:
    from sqlalchemy.sql.elements import ColumnElement

# --- names -------------------------------------------------------------------------------

SALE_COMPLETED: Final = "sale.completed"
SALE_RETURNED: Final = "sale.returned"
STOCK_RECEIVED: Final = "stock.received"
STOCK_ADJUSTED: Final = "stock.adjusted"
TRANSFER_SENT: Final = "stock.transfer_sent"
TRANSFER_RECEIVED: Final = "stock.transfer_received"
SCHEMA_VERSION: Final = 1
EventType = Literal[
    "sale.completed",
    "sale.returned",
    "stock.received",
    "stock.adjusted",
    "stock.transfer_sent",
    "stock.transfer_received",
]

RAW_EVENTS_COLLECTION: Final = "raw_events"  # MongoDB: every valid event as received
# MongoDB: which event id holds each document (sale, return, ...) in raw_events.
RAW_DOCUMENTS_COLLECTION: Final = "raw_documents"
REJECTED_EVENTS_COLLECTION: Final = "rejected_events"  # MongoDB: refused records and why
STREAM_QUERY_NAME: Final = "sales_stream"  # the stream job's query (ledger, checkpoint)


def sales_topic(prefix: str) -> str:
    """Sales and returns, keyed by sale id."""
    return f"{prefix}.sales.v1"


def inventory_topic(prefix: str) -> str:
    """Goods received and adjustments, keyed by store."""
    return f"{prefix}.inventory.v1"


# Per event type: the field naming its document (the id on the receipt or the form) and
# what people call that document.
DOCUMENT_FIELD: Final[Mapping[str, str]] = {
    SALE_COMPLETED: "sale_id",
    SALE_RETURNED: "return_id",
    STOCK_RECEIVED: "receipt_id",
    STOCK_ADJUSTED: "adjustment_id",
    TRANSFER_SENT: "transfer_id",
    TRANSFER_RECEIVED: "receipt_id",
}
DOCUMENT_NAME: Final[Mapping[str, str]] = {
    SALE_COMPLETED: "sale",
    SALE_RETURNED: "return",
    STOCK_RECEIVED: "receipt",
    STOCK_ADJUSTED: "adjustment",
    TRANSFER_SENT: "transfer",
    TRANSFER_RECEIVED: "transfer receipt",
}
# The fields without which the stream job cannot apply an event (the models require
# them too; a test keeps the two in step). Others may be absent from a foreign producer.
PIPELINE_REQUIRED_FIELDS: Final[Mapping[str, tuple[str, ...]]] = {
    SALE_COMPLETED: ("event_id", "sale_id", "store_id", "register_id", "occurred_at", "lines"),
    SALE_RETURNED: (
        "event_id",
        "return_id",
        "sale_id",
        "store_id",
        "register_id",
        "occurred_at",
        "reason",
        "lines",
    ),
    STOCK_RECEIVED: ("event_id", "receipt_id", "store_id", "occurred_at", "lines"),
    STOCK_ADJUSTED: ("event_id", "adjustment_id", "store_id", "occurred_at", "reason", "lines"),
    TRANSFER_SENT: (
        "event_id",
        "transfer_id",
        "store_id",
        "from_store_id",
        "to_store_id",
        "occurred_at",
        "lines",
    ),
    TRANSFER_RECEIVED: (
        "event_id",
        "receipt_id",
        "transfer_id",
        "store_id",
        "from_store_id",
        "to_store_id",
        "occurred_at",
        "lines",
    ),
}

AdjustmentReason = Literal["count", "damage", "loss", "found", "other"]
ADJUSTMENT_REASONS: Final[tuple[str, ...]] = get_args(AdjustmentReason)

# --- the models --------------------------------------------------------------------------

# Decimal in Python, a plain decimal string on the wire ("45000.00", never a float).
Money = Annotated[Decimal, PlainSerializer(lambda d: f"{d:.2f}", return_type=str)]


def _absent(value: object) -> bool:
    # Additive fields are left out of the JSON when unset, so events without a discount
    # or a split look exactly as they always did.
    return value is None


def _request_id() -> Any:
    """Additive (still v1): the id of the request that recorded the event (X-Request-ID,
    pos_app/observability/logs.py), so a sale can be followed from the app's log line to
    the stream job's; absent on events made outside a request."""
    return Field(default=None, max_length=64, exclude_if=_absent)


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
    # Additive (still v1): this line's share of a whole-cart discount, already in
    # `discount` and in the net unit_price (discount_percent stays the line's own).
    cart_discount: Money | None = Field(default=None, exclude_if=_absent)
    # Additive (still v1): the product's cost price when it was sold, so margins keep the
    # cost of the day; absent when the product has no cost price (margin unknown).
    unit_cost: Money | None = Field(default=None, exclude_if=_absent)


class EventCartDiscount(BaseModel):
    """Additive (still v1): a discount on the whole cart, spread over the lines (each
    line's `cart_discount`), so line totals, `totals.discount` and the tax include it."""

    kind: Literal["percent", "amount"]
    value: Decimal  # the percent, or the kyat taken off, as the cashier typed it
    amount: Money  # the kyat it took off the lines
    reason: str
    approved_by: str | None = Field(default=None, exclude_if=_absent)  # over the limit


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


class EventPayment(BaseModel):
    method: str
    amount: Money
    tendered: Money | None = None
    change: Money | None = None
    # Additive (still v1): the wallet's or card terminal's transaction id, typed or
    # scanned at the counter; the stream job books it with the payment.
    reference: str | None = Field(default=None, max_length=64, exclude_if=_absent)


class EventTax(BaseModel):
    """Additive (still v1): the shop's commercial tax as applied (pos_app/tax.py): once
    per receipt, on what the lines charge (`base`), half up to the kyat."""

    mode: Literal["included", "added"]
    rate: Decimal  # percent
    base: Money
    amount: Money  # the tax


class SaleCompleted(BaseModel):
    """`sale.completed`, version 1: a sale rung up."""

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
    cart_discount: EventCartDiscount | None = Field(default=None, exclude_if=_absent)
    request_id: str | None = _request_id()

    def to_kafka(self) -> tuple[bytes, bytes]:
        """(key, value) for the sales topic: keyed by sale id, so a sale stays in order."""
        return self.sale_id.encode(), self.model_dump_json().encode()


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
    """`sale.returned`, version 1: goods brought back from an earlier sale. It travels on
    the sales topic keyed by the original sale id, so it reaches the stream job after the
    sale it returns from (same partition, in order)."""

    model_config = ConfigDict(frozen=True)

    event_type: Literal["sale.returned"] = SALE_RETURNED
    schema_version: Literal[1] = SCHEMA_VERSION
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
    refund_method: str | None = Field(default=None, exclude_if=_absent)
    # Additive (still v1): the sale's tax on what comes back; totals.refund includes it
    # when the tax was added on top.
    tax: EventTax | None = Field(default=None, exclude_if=_absent)
    request_id: str | None = _request_id()

    def to_kafka(self) -> tuple[bytes, bytes]:
        return self.sale_id.encode(), self.model_dump_json().encode()


class MovementLine(BaseModel):
    line_no: int = Field(ge=1)
    sku: str
    quantity: int  # received: > 0; adjusted: signed, never 0
    # Additive (still v1): on a receipt against a purchase order, the order's cost per unit.
    unit_cost: Money | None = Field(default=None, exclude_if=_absent)


class _InventoryEvent(BaseModel):
    """Inventory events, version 1; they travel on the inventory topic keyed by store."""

    model_config = ConfigDict(frozen=True)

    schema_version: Literal[1] = SCHEMA_VERSION
    event_id: str
    store_id: str
    recorded_by: str
    occurred_at: datetime  # shop-local time with its offset
    note: str = ""
    lines: list[MovementLine] = Field(min_length=1)
    request_id: str | None = _request_id()

    def to_kafka(self) -> tuple[bytes, bytes]:
        return self.store_id.encode(), self.model_dump_json().encode()


class StockReceived(_InventoryEvent):
    """`stock.received`: goods in from a supplier."""

    event_type: Literal["stock.received"] = STOCK_RECEIVED
    receipt_id: str
    supplier: str = ""
    # Additive (still v1): the purchase order the goods were received against.
    purchase_order_id: str | None = Field(default=None, exclude_if=_absent)


class StockAdjusted(_InventoryEvent):
    """`stock.adjusted`: a stock correction, signed per line."""

    event_type: Literal["stock.adjusted"] = STOCK_ADJUSTED
    adjustment_id: str
    reason: AdjustmentReason


class _TransferEvent(_InventoryEvent):
    """A transfer between two stores of the chain: its lines' quantities are > 0, and
    store_id is the store whose stock the event moves."""

    transfer_id: str
    from_store_id: str
    to_store_id: str


class StockTransferSent(_TransferEvent):
    """`stock.transfer_sent`: goods leave from_store_id (store_id) for to_store_id; they
    are in transit until the receiving store records them."""

    event_type: Literal["stock.transfer_sent"] = TRANSFER_SENT


class StockTransferReceived(_TransferEvent):
    """`stock.transfer_received`: the goods of a transfer arrive at to_store_id (store_id).
    receipt_id is always `transfer_receipt_id(transfer_id)`, so a transfer can be
    received once only (a second receipt is the same document twice)."""

    event_type: Literal["stock.transfer_received"] = TRANSFER_RECEIVED
    receipt_id: str


TRANSFER_RECEIPT_SUFFIX: Final = "-IN"


def transfer_receipt_id(transfer_id: str) -> str:
    """The one document id a transfer's arrival may have."""
    return transfer_id + TRANSFER_RECEIPT_SUFFIX


Event = (
    SaleCompleted
    | SaleReturned
    | StockReceived
    | StockAdjusted
    | StockTransferSent
    | StockTransferReceived
)
EVENT_MODELS: Final[Mapping[str, type[BaseModel]]] = {
    SALE_COMPLETED: SaleCompleted,
    SALE_RETURNED: SaleReturned,
    STOCK_RECEIVED: StockReceived,
    STOCK_ADJUSTED: StockAdjusted,
    TRANSFER_SENT: StockTransferSent,
    TRANSFER_RECEIVED: StockTransferReceived,
}


def document_id(event: Event) -> str:
    """The id of the document the event records (sale, return, receipt, adjustment,
    transfer, transfer receipt)."""
    value: str = getattr(event, DOCUMENT_FIELD[event.event_type])
    return value


# --- the low-stock rule ------------------------------------------------------------------


@overload
def is_low(on_hand: int, reorder_point: int) -> bool: ...
@overload
def is_low(
    on_hand: ColumnElement[int], reorder_point: ColumnElement[int]
) -> ColumnElement[bool]: ...
def is_low(on_hand: object, reorder_point: object) -> object:
    """Stock is low at or below the reorder point. Works on numbers and on SQL columns
    (the comparison builds the SQL expression), so the app's queries use it too."""
    return on_hand <= reorder_point  # type: ignore[operator]


def crossed_reorder_point(before: int | None, after: int, reorder_point: int) -> bool:
    """An alert is due when on hand goes from above the reorder point to at or below it;
    a product without a stock row yet (before None) counts as above."""
    was_low = before is not None and is_low(before, reorder_point)
    return is_low(after, reorder_point) and not was_low


# --- how much of a sale can come back ----------------------------------------------------


@dataclass(frozen=True)
class ReturnableLine:
    """A line of a recorded sale and how many of it earlier returns already took back."""

    line_no: int
    sku: str
    sold: int
    returned: int

    @property
    def returnable(self) -> int:
        return self.sold - self.returned


@dataclass(frozen=True)
class WantedBack:
    """A line of a return: which line of the sale, its SKU if the return names one."""

    line_no: int
    quantity: int
    sku: str | None = None


ReturnProblemKind = Literal["line named twice", "no such line", "more than returnable"]


@dataclass(frozen=True)
class ReturnProblem:
    kind: ReturnProblemKind
    wanted: WantedBack
    line: ReturnableLine | None = None  # the sale's line, for "more than returnable"


def return_problem(
    sale: Mapping[int, ReturnableLine], wanted: Sequence[WantedBack]
) -> ReturnProblem | None:
    """Why a return is impossible, or None: each line names a line of the sale once
    (with its SKU, when given) and takes back no more than was sold less what earlier
    returns took. The app checks this before recording a return; the stream job again
    against the stored sale, so stock never comes back that was not sold."""
    named: set[int] = set()
    for back in wanted:
        if back.line_no in named:
            return ReturnProblem("line named twice", back)
        named.add(back.line_no)
    for back in wanted:
        line = sale.get(back.line_no)
        if line is None or (back.sku is not None and back.sku != line.sku):
            return ReturnProblem("no such line", back)
        if back.quantity > line.returnable:
            return ReturnProblem("more than returnable", back, line)
    return None
