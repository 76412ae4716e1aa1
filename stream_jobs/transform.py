"""Pure DataFrame transformations of the event stream: Kafka records in, classified
events and their lines out. No I/O here, so they are tested on small DataFrames, and
the stream job and the rebuild (`posctl rebuild`) share them."""

from __future__ import annotations

from functools import lru_cache

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import DecimalType

from pos_app.contract import (
    ADJUSTMENT_REASONS,
    DOCUMENT_FIELD,
    PIPELINE_REQUIRED_FIELDS,
    SALE_COMPLETED,
    SALE_RETURNED,
    SCHEMA_VERSION,
    STOCK_ADJUSTED,
    TRANSFER_RECEIPT_SUFFIX,
    TRANSFER_RECEIVED,
    TRANSFER_SENT,
)
from stream_jobs.schema import EVENT_V1

PRICE = DecimalType(12, 2)
AMOUNT = DecimalType(14, 2)
# occurred_at must say its offset: a bare local time would be read as UTC.
OFFSET_AT_END = r"(Z|[+-][0-9]{2}:?[0-9]{2})$"
PRICED = (SALE_COMPLETED, SALE_RETURNED)  # event types whose lines carry a unit price


def _line_problem(line: Column, event_type: Column) -> Column:
    """Why one line is unusable, or null if it is fine (whether its SKU exists is the
    catalogue's question, answered outside Spark: `catalogue.reason`)."""
    label = _line_label(line)
    quantity = line["quantity"]
    price = line["unit_price"].try_cast(PRICE)
    cost = line["unit_cost"].try_cast(PRICE)
    return (
        F.when(line["sku"].isNull(), F.concat(label, F.lit(": missing sku")))
        .when(
            (event_type == STOCK_ADJUSTED) & (quantity.isNull() | (quantity == 0)),
            F.concat(label, F.lit(": quantity must be a non-zero whole number")),
        )
        .when(
            (event_type != STOCK_ADJUSTED) & (quantity.isNull() | (quantity <= 0)),
            F.concat(label, F.lit(": quantity must be a positive whole number")),
        )
        .when(
            event_type.isin(*PRICED) & (price.isNull() | (price < 0)),
            F.concat(label, F.lit(": unit_price must be a non-negative decimal string")),
        )
        .when(
            (event_type == SALE_COMPLETED)
            & line["unit_cost"].isNotNull()
            & (cost.isNull() | (cost < 0)),
            F.concat(label, F.lit(": unit_cost must be a non-negative decimal string")),
        )
        .when(
            (event_type == SALE_RETURNED) & line["line_no"].isNull(),
            F.concat(label, F.lit(": a returned line needs the line_no of the sale")),
        )
    )


def _line_label(line: Column) -> Column:
    return F.concat(F.lit("line "), F.coalesce(line["line_no"].cast("string"), F.lit("?")))


def classify(records: DataFrame) -> DataFrame:
    """Parse Kafka records (value as bytes or string) and give each a `reason`: null for
    a v1 event of a known type whose fields and lines are usable, otherwise why it is
    rejected. Adds the columns event_id, event_type, document_id (the sale, return,
    receipt or adjustment id) and line_checks (each line's label, SKU and problem), from
    which `catalogue.reason` gives the final reason once it knows which SKUs exist.

    Nothing here depends on the data of the moment, so the stream job applies it to the
    stream once and Spark analyses the plan once, not per micro-batch."""
    parse, judge = _classification()
    return records.select(*parse).select("*", *judge)


@lru_cache(maxsize=1)
def _classification() -> tuple[list[Column], list[Column]]:
    e = F.col("event")
    kind = e["event_type"]
    missing = F.coalesce(
        *[
            F.when((kind == event_type) & e[name].isNull(), F.lit(f"missing field: {name}"))
            for event_type, names in PIPELINE_REQUIRED_FIELDS.items()
            for name in names
        ]
    )
    line_checks = F.transform(
        e["lines"],
        lambda line: F.struct(
            _line_label(line).alias("label"),
            line["sku"].alias("sku"),
            _line_problem(line, kind).alias("problem"),
        ),
    )
    reason = (
        F.when(F.col("value").isNull(), F.lit("empty message"))
        .when(F.try_parse_json(F.col("value")).isNull(), F.lit("not valid JSON"))
        .when(e.isNull() | ~F.ltrim("value").startswith("{"), F.lit("not a JSON object"))
        .when(kind.isNull(), F.lit("missing field: event_type"))
        .when(
            ~kind.isin(*PIPELINE_REQUIRED_FIELDS),
            F.concat(F.lit("unsupported event_type: "), kind),
        )
        .when(e["schema_version"].isNull(), F.lit("missing field: schema_version"))
        .when(
            e["schema_version"] != SCHEMA_VERSION,
            F.concat(F.lit("unsupported schema_version: "), e["schema_version"].cast("string")),
        )
        .when(missing.isNotNull(), missing)
        .when(
            F.try_to_timestamp(e["occurred_at"]).isNull() | ~e["occurred_at"].rlike(OFFSET_AT_END),
            F.lit("occurred_at is not an ISO 8601 timestamp with offset"),
        )
        .when(
            (kind == STOCK_ADJUSTED) & ~e["reason"].isin(*ADJUSTMENT_REASONS),
            F.lit(f"reason must be one of: {', '.join(ADJUSTMENT_REASONS)}"),
        )
        .when(_transfer_problem().isNotNull(), _transfer_problem())
        .when(F.size(e["lines"]) == 0, F.lit("an event needs at least one line"))
    )
    document_id = F.coalesce(
        *[F.when(kind == event_type, e[name]) for event_type, name in DOCUMENT_FIELD.items()]
    )
    parse = [
        F.col("value").cast("string").alias("value"),
        F.col("topic").alias("kafka_topic"),
        F.col("partition").alias("kafka_partition"),
        F.col("offset").alias("kafka_offset"),
        F.col("timestamp").alias("kafka_timestamp"),
        F.from_json(F.col("value").cast("string"), EVENT_V1).alias("event"),
    ]
    judge = [
        reason.alias("reason"),
        e["event_id"].alias("event_id"),
        kind.alias("event_type"),
        document_id.alias("document_id"),
        e["sale_id"].alias("sale_id"),
        e["request_id"].alias("request_id"),
        line_checks.alias("line_checks"),
    ]
    return parse, judge


def _transfer_problem() -> Column:
    """Why a transfer event cannot move stock, or null: two different stores, the event's
    store the one whose stock it moves, and an arrival under the transfer's one receipt id
    (so a transfer arrives once)."""
    e = F.col("event")
    kind = e["event_type"]
    return (
        F.when(
            kind.isin(TRANSFER_SENT, TRANSFER_RECEIVED) & (e["from_store_id"] == e["to_store_id"]),
            F.lit("a transfer needs two different stores"),
        )
        .when(
            (kind == TRANSFER_SENT) & (e["store_id"] != e["from_store_id"]),
            F.lit("store_id of a sent transfer must be its from_store_id"),
        )
        .when(
            (kind == TRANSFER_RECEIVED) & (e["store_id"] != e["to_store_id"]),
            F.lit("store_id of a received transfer must be its to_store_id"),
        )
        .when(
            (kind == TRANSFER_RECEIVED)
            & (e["receipt_id"] != F.concat(e["transfer_id"], F.lit(TRANSFER_RECEIPT_SUFFIX))),
            F.concat(
                F.lit("receipt_id of a received transfer must be "),
                e["transfer_id"],
                F.lit(TRANSFER_RECEIPT_SUFFIX),
            ),
        )
    )


def _local_parts() -> tuple[Column, Column, Column]:
    """The event's shop-local date (its occurred_at carries the shop's offset), local
    time, and occurred_at in UTC rendered as text (no driver-side conversion)."""
    occurred = F.col("event")["occurred_at"]
    local_date = F.to_date(F.substring(occurred, 1, 10))
    occurred_utc = F.date_format(F.try_to_timestamp(occurred), "yyyy-MM-dd HH:mm:ss.SSS")
    return local_date, F.substring(occurred, 12, 8), occurred_utc


@lru_cache(maxsize=1)
def sale_line_rows() -> Column:
    """For a classified sale.completed event, its lines as an array of structs in the
    shape of the MySQL `sales` table (one column, so a micro-batch needs a single Spark
    action); null for other events. Line totals are recomputed in exact decimals."""
    e = F.col("event")
    local_date, local_time, occurred_utc = _local_parts()

    def row(line: Column, index: Column) -> Column:
        line_no = F.coalesce(line["line_no"], index + 1)
        price = line["unit_price"].try_cast(PRICE)
        return F.struct(
            F.concat_ws(":", e["sale_id"], line_no.cast("string")).alias("line_id"),
            e["sale_id"].alias("sale_id"),
            e["event_id"].alias("event_id"),
            line_no.alias("line_no"),
            e["store_id"].alias("store_id"),
            e["register_id"].alias("register_id"),
            F.coalesce(e["cashier"], F.lit("")).alias("cashier"),
            line["sku"].alias("sku"),
            F.coalesce(line["name"], line["sku"]).alias("product"),
            line["quantity"].alias("quantity_sold"),
            price.alias("price_each"),
            (price * line["quantity"]).cast(AMOUNT).alias("sales"),
            F.date_format(local_date, "yyyy-MM-dd").alias("sale_date"),
            local_time.alias("sale_time"),
            F.dayofmonth(local_date).alias("day"),
            F.month(local_date).alias("month"),
            F.year(local_date).alias("year"),
            occurred_utc.alias("occurred_at"),
            line["unit_cost"].try_cast(PRICE).alias("unit_cost"),  # null: cost not known
        )

    valid_sale = F.col("reason").isNull() & (e["event_type"] == SALE_COMPLETED)
    return F.when(valid_sale, F.transform(e["lines"], row))


@lru_cache(maxsize=1)
def movement_rows() -> Column:
    """For a classified return, receipt or adjustment, its lines as an array of structs
    (one shape for the three; sinks.py maps them to `sale_returns` and `stock_movements`);
    null for sales. quantity is signed as it moves stock: returns and receipts add."""
    e = F.col("event")
    local_date, _, occurred_utc = _local_parts()

    def row(line: Column, index: Column) -> Column:
        line_no = F.coalesce(line["line_no"], index + 1)
        price = line["unit_price"].try_cast(PRICE)
        return F.struct(
            F.concat_ws(":", F.col("document_id"), line_no.cast("string")).alias("line_id"),
            F.col("document_id").alias("document_id"),
            e["event_type"].alias("event_type"),
            e["event_id"].alias("event_id"),
            e["sale_id"].alias("sale_id"),
            line_no.alias("line_no"),
            e["store_id"].alias("store_id"),
            F.coalesce(e["register_id"], F.lit("")).alias("register_id"),
            F.coalesce(e["cashier"], e["recorded_by"], F.lit("")).alias("actor"),
            line["sku"].alias("sku"),
            F.coalesce(line["name"], line["sku"]).alias("product"),
            line["quantity"].alias("quantity"),
            price.alias("price_each"),
            (price * line["quantity"]).cast(AMOUNT).alias("amount"),
            F.coalesce(
                e["reason"],
                e["supplier"],
                # A transfer's line says where the goods went or came from, and which transfer.
                F.when(
                    e["event_type"] == TRANSFER_SENT,
                    F.concat(F.lit("to "), e["to_store_id"], F.lit(" "), e["transfer_id"]),
                ).when(
                    e["event_type"] == TRANSFER_RECEIVED,
                    F.concat(F.lit("from "), e["from_store_id"], F.lit(" "), e["transfer_id"]),
                ),
                F.lit(""),
            ).alias("reason"),
            F.date_format(local_date, "yyyy-MM-dd").alias("local_date"),
            F.month(local_date).alias("month"),
            F.year(local_date).alias("year"),
            occurred_utc.alias("occurred_at"),
        )

    valid_other = F.col("reason").isNull() & (e["event_type"] != SALE_COMPLETED)
    return F.when(valid_other, F.transform(e["lines"], row))


def sale_lines(classified: DataFrame) -> DataFrame:
    """One row per line of the valid sales, in the shape of the MySQL `sales` table."""
    return classified.where(
        F.col("reason").isNull() & (F.col("event_type") == SALE_COMPLETED)
    ).select(F.inline(sale_line_rows()))
