"""The stream job's pure transformations, on small DataFrames."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from pyspark.sql import DataFrame, SparkSession

from stream_jobs.transform import classify, sale_lines
from tests.factories import sale_event

KNOWN = ["TKP-BLK-M", "LGY-COT-BLU"]


def records(spark: SparkSession, values: list[str | None]) -> DataFrame:
    rows = [(v, "pos.sales.v1", 0, offset, None) for offset, v in enumerate(values)]
    return spark.createDataFrame(
        rows, "value string, topic string, partition int, offset long, timestamp timestamp"
    )


def reasons(spark: SparkSession, values: list[str | None]) -> list[str | None]:
    rows = classify(records(spark, values), KNOWN).orderBy("kafka_offset").collect()
    return [row["reason"] for row in rows]


def good(**changes: Any) -> dict[str, Any]:
    return {**sale_event([("TKP-BLK-M", 2, "68000"), ("LGY-COT-BLU", 1, "18000.50")]), **changes}


def with_line(**changes: Any) -> str:
    event = good()
    event["lines"][0] = {**event["lines"][0], **changes}
    return json.dumps(event)


def test_a_valid_event_has_no_reason(spark: SparkSession) -> None:
    assert reasons(spark, [json.dumps(good())]) == [None]


def test_unknown_fields_are_ignored(spark: SparkSession) -> None:
    assert reasons(spark, [json.dumps(good(loyalty_card="123"))]) == [None]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "empty message"),
        ("{not json", "not valid JSON"),
        ("42", "not a JSON object"),
        (json.dumps({k: v for k, v in good().items() if k != "sale_id"}), "missing field: sale_id"),
        (json.dumps(good(event_type="sale.voided")), "unsupported event_type: sale.voided"),
        (json.dumps(good(schema_version=2)), "unsupported schema_version: 2"),
        (json.dumps(good(occurred_at="2026-11-28T10:15:00")), "occurred_at is not an ISO 8601"),
        (json.dumps(good(occurred_at="yesterday")), "occurred_at is not an ISO 8601"),
        (json.dumps(good(lines=[])), "a sale needs at least one line"),
        (with_line(quantity=0), "line 1: quantity must be a positive whole number"),
        (with_line(quantity=-3), "line 1: quantity must be a positive whole number"),
        (with_line(quantity=1.5), "line 1: quantity must be a positive whole number"),
        (with_line(unit_price="abc"), "line 1: unit_price must be a non-negative decimal"),
        (with_line(sku="NOPE"), "line 1: unknown SKU NOPE"),
        (with_line(sku=None), "line 1: missing sku"),
    ],
)
def test_a_bad_event_is_rejected_with_its_reason(
    spark: SparkSession, value: str | None, reason: str
) -> None:
    [found] = reasons(spark, [value])
    assert found is not None and found.startswith(reason)


def test_sale_lines_match_the_sales_table(spark: SparkSession) -> None:
    event = good(sale_id="S-1", occurred_at="2026-01-01T00:30:00.250+06:30")
    classified = classify(records(spark, [json.dumps(event)]), KNOWN)
    rows = [r.asDict() for r in sale_lines(classified).orderBy("line_no").collect()]

    assert [r["line_id"] for r in rows] == ["S-1:1", "S-1:2"]
    assert rows[0]["sales"] == Decimal("136000.00")
    assert rows[1]["price_each"] == Decimal("18000.50")
    assert rows[1]["sales"] == Decimal("18000.50")
    # Date parts are the shop's local day; occurred_at is stored in UTC (the day before).
    first = rows[0]
    assert (first["sale_date"], first["sale_time"]) == ("2026-01-01", "00:30:00")
    assert (first["year"], first["month"], first["day"]) == (2026, 1, 1)
    assert first["occurred_at"] == "2025-12-31 18:00:00.250"
    assert first["event_id"] == event["event_id"]
    assert first["product"] == "Product TKP-BLK-M"
