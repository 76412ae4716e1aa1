"""The Spark schema of the pipeline's v1 events (see docs/events.md): one struct with the
fields of every event type, `sale.completed`, `sale.returned`, `stock.received` and
`stock.adjusted`; a field an event type does not have is null.

Money arrives as decimal strings and numbers that must be whole arrive as integers;
anything that does not fit becomes null here and is rejected by `transform.classify`."""

from pyspark.sql.types import ArrayType, IntegerType, StringType, StructField, StructType


def _struct(*fields: tuple[str, object]) -> StructType:
    return StructType([StructField(name, kind, True) for name, kind in fields])  # type: ignore[arg-type]


LINE = _struct(
    ("line_no", IntegerType()),
    ("sku", StringType()),
    ("name", StringType()),
    ("quantity", IntegerType()),
    ("unit_price", StringType()),
    ("line_total", StringType()),
)

EVENT_V1 = _struct(
    ("event_type", StringType()),
    ("schema_version", IntegerType()),
    ("event_id", StringType()),
    ("sale_id", StringType()),
    ("return_id", StringType()),
    ("receipt_id", StringType()),
    ("adjustment_id", StringType()),
    ("recorded_by", StringType()),
    ("reason", StringType()),
    ("supplier", StringType()),
    ("store_id", StringType()),
    ("register_id", StringType()),
    ("cashier", StringType()),
    ("occurred_at", StringType()),
    ("currency", StringType()),
    ("lines", ArrayType(LINE)),
    (
        "totals",
        _struct(
            ("items", IntegerType()),
            ("subtotal", StringType()),
            ("discount", StringType()),
            ("total", StringType()),
        ),
    ),
    (
        "payment",
        _struct(
            ("method", StringType()),
            ("amount", StringType()),
            ("tendered", StringType()),
            ("change", StringType()),
        ),
    ),
)

SALE_COMPLETED = "sale.completed"
SALE_RETURNED = "sale.returned"
STOCK_RECEIVED = "stock.received"
STOCK_ADJUSTED = "stock.adjusted"

# Per event type: the field naming its document (sale, return, receipt, adjustment) and
# the fields it cannot do without.
DOCUMENT_FIELD = {
    SALE_COMPLETED: "sale_id",
    SALE_RETURNED: "return_id",
    STOCK_RECEIVED: "receipt_id",
    STOCK_ADJUSTED: "adjustment_id",
}
REQUIRED_FIELDS = {
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
}
ADJUSTMENT_REASONS = ("count", "damage", "loss", "found", "other")
