"""The Spark schema of the `sale.completed` v1 event (see docs/events.md).

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

SALE_COMPLETED_V1 = _struct(
    ("event_type", StringType()),
    ("schema_version", IntegerType()),
    ("event_id", StringType()),
    ("sale_id", StringType()),
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

REQUIRED_FIELDS = ("event_id", "sale_id", "store_id", "register_id", "occurred_at", "lines")
