"""Pure DataFrame transformations of the sales stream: Kafka records in, classified
events and sale lines out. No I/O here, so they are tested on small DataFrames."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import DecimalType

from stream_jobs.schema import REQUIRED_FIELDS, SALE_COMPLETED_V1

PRICE = DecimalType(12, 2)
AMOUNT = DecimalType(14, 2)
SUPPORTED_TYPE = "sale.completed"
SUPPORTED_VERSION = 1
# occurred_at must say its offset: a bare local time would be read as UTC.
OFFSET_AT_END = r"(Z|[+-][0-9]{2}:?[0-9]{2})$"


def _line_problem(line: Column, known_skus: Column) -> Column:
    """Why one line is unusable, or null if it is fine."""
    label = F.concat(F.lit("line "), F.coalesce(line["line_no"].cast("string"), F.lit("?")))
    return (
        F.when(line["sku"].isNull(), F.concat(label, F.lit(": missing sku")))
        .when(
            line["quantity"].isNull() | (line["quantity"] <= 0),
            F.concat(label, F.lit(": quantity must be a positive whole number")),
        )
        .when(
            line["unit_price"].try_cast(PRICE).isNull() | (line["unit_price"].try_cast(PRICE) < 0),
            F.concat(label, F.lit(": unit_price must be a non-negative decimal string")),
        )
        .when(
            ~F.array_contains(known_skus, line["sku"]),
            F.concat(label, F.lit(": unknown SKU "), line["sku"]),
        )
    )


def classify(records: DataFrame, known_skus: Sequence[str]) -> DataFrame:
    """Parse Kafka records (value as bytes or string) and give each a `reason`:
    null for a usable sale.completed v1 event, otherwise why it is rejected."""
    parse, judge = _classification(tuple(known_skus))
    return records.select(*parse).select("*", *judge)


# Building these expressions costs hundreds of py4j calls (~0.4 s on 2 cores), more
# than running them on a small batch: build once per catalog, reuse every batch.
@lru_cache(maxsize=4)
def _classification(known_skus: tuple[str, ...]) -> tuple[list[Column], list[Column]]:
    e = F.col("event")
    known = (
        F.array(*[F.lit(sku) for sku in known_skus])
        if known_skus
        else F.array().cast("array<string>")
    )
    missing = F.coalesce(
        *[F.when(e[name].isNull(), F.lit(f"missing field: {name}")) for name in REQUIRED_FIELDS]
    )
    first_bad_line = F.try_element_at(
        F.array_compact(F.transform(e["lines"], lambda line: _line_problem(line, known))),
        F.lit(1),
    )
    reason = (
        F.when(F.col("value").isNull(), F.lit("empty message"))
        .when(F.try_parse_json(F.col("value")).isNull(), F.lit("not valid JSON"))
        .when(e.isNull() | ~F.ltrim("value").startswith("{"), F.lit("not a JSON object"))
        .when(e["event_type"].isNull(), F.lit("missing field: event_type"))
        .when(
            e["event_type"] != SUPPORTED_TYPE,
            F.concat(F.lit("unsupported event_type: "), e["event_type"]),
        )
        .when(e["schema_version"].isNull(), F.lit("missing field: schema_version"))
        .when(
            e["schema_version"] != SUPPORTED_VERSION,
            F.concat(F.lit("unsupported schema_version: "), e["schema_version"].cast("string")),
        )
        .when(missing.isNotNull(), missing)
        .when(
            F.try_to_timestamp(e["occurred_at"]).isNull() | ~e["occurred_at"].rlike(OFFSET_AT_END),
            F.lit("occurred_at is not an ISO 8601 timestamp with offset"),
        )
        .when(F.size(e["lines"]) == 0, F.lit("a sale needs at least one line"))
        .when(first_bad_line.isNotNull(), first_bad_line)
    )
    parse = [
        F.col("value").cast("string").alias("value"),
        F.col("topic").alias("kafka_topic"),
        F.col("partition").alias("kafka_partition"),
        F.col("offset").alias("kafka_offset"),
        F.col("timestamp").alias("kafka_timestamp"),
        F.from_json(F.col("value").cast("string"), SALE_COMPLETED_V1).alias("event"),
    ]
    judge = [reason.alias("reason"), e["event_id"].alias("event_id"), e["sale_id"].alias("sale_id")]
    return parse, judge


@lru_cache(maxsize=1)
def sale_line_rows() -> Column:
    """For a classified event, its lines as an array of structs in the shape of the
    MySQL `sales` table (one column, so a micro-batch needs a single Spark action).

    Date parts are the shop-local ones the event states (its occurred_at carries the
    shop's offset); occurred_at itself is stored in UTC. Line totals are recomputed
    from quantity and unit price in exact decimals."""
    e = F.col("event")
    occurred = e["occurred_at"]
    local_date = F.to_date(F.substring(occurred, 1, 10))
    # Rendered as text in the session time zone (UTC), so no driver-side conversion.
    occurred_utc = F.date_format(F.try_to_timestamp(occurred), "yyyy-MM-dd HH:mm:ss.SSS")

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
            F.substring(occurred, 12, 8).alias("sale_time"),
            F.dayofmonth(local_date).alias("day"),
            F.month(local_date).alias("month"),
            F.year(local_date).alias("year"),
            occurred_utc.alias("occurred_at"),
        )

    return F.when(F.col("reason").isNull(), F.transform(e["lines"], row))


def sale_lines(classified: DataFrame) -> DataFrame:
    """One row per line of the valid events, in the shape of the MySQL `sales` table."""
    return classified.where(F.col("reason").isNull()).select(F.inline(sale_line_rows()))
