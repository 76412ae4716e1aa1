"""The stream job's pure transformations, on small DataFrames."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from pyspark.sql import DataFrame, SparkSession

from stream_jobs.catalogue import KnownSkus, judge
from stream_jobs.transform import classify, movement_rows, sale_line_rows, sale_lines
from tests.factories import movement_event, return_event, sale_event

KNOWN = ["TKP-BLK-M", "LGY-COT-BLU"]


def records(spark: SparkSession, values: list[str | None]) -> DataFrame:
    rows = [(v, "pos.sales.v1", 0, offset, None) for offset, v in enumerate(values)]
    return spark.createDataFrame(
        rows, "value string, topic string, partition int, offset long, timestamp timestamp"
    )


def catalogue_of(skus: list[str]) -> KnownSkus:
    def find(wanted: set[str] | None) -> set[str]:
        return set(skus) if wanted is None else wanted & set(skus)

    return KnownSkus(find)


def reasons(spark: SparkSession, values: list[str | None]) -> list[str | None]:
    rows = classify(records(spark, values)).orderBy("kafka_offset").collect()
    judged = judge([row.asDict() for row in rows], catalogue_of(KNOWN))
    return [row["reason"] for row in judged]


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
        (json.dumps(good(lines=[])), "an event needs at least one line"),
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
    classified = classify(records(spark, [json.dumps(event)]))
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


def test_returns_receipts_and_adjustments_are_valid_events(spark: SparkSession) -> None:
    events = [
        return_event("S-1", [(1, "TKP-BLK-M", 1, "68000")]),
        movement_event("received", [("TKP-BLK-M", 24)]),
        movement_event("adjusted", [("TKP-BLK-M", -2)], reason="damage"),
    ]
    assert reasons(spark, [json.dumps(e) for e in events]) == [None, None, None]


def _drop(event: dict[str, Any], field: str) -> str:
    return json.dumps({k: v for k, v in event.items() if k != field})


def _line(event: dict[str, Any], **changes: Any) -> str:
    event["lines"][0] = {**event["lines"][0], **changes}
    return json.dumps(event)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (_drop(return_event("S-1", [(1, "TKP-BLK-M", 1, "1")]), "reason"), "missing field: reason"),
        (
            _drop(return_event("S-1", [(1, "TKP-BLK-M", 1, "1")]), "sale_id"),
            "missing field: sale_id",
        ),
        (
            _line(return_event("S-1", [(1, "TKP-BLK-M", 1, "1")]), line_no=None),
            "line ?: a returned line needs the line_no of the sale",
        ),
        (
            _line(return_event("S-1", [(1, "TKP-BLK-M", 1, "1")]), unit_price=None),
            "line 1: unit_price must be",
        ),
        (
            _line(movement_event("received", [("TKP-BLK-M", 1)]), quantity=-1),
            "line 1: quantity must be a positive whole number",
        ),
        (
            _line(movement_event("adjusted", [("TKP-BLK-M", 1)]), quantity=0),
            "line 1: quantity must be a non-zero whole number",
        ),
        (
            json.dumps(movement_event("adjusted", [("TKP-BLK-M", 1)], reason="gift")),
            "reason must be one of: count, damage, loss, found, other",
        ),
        (
            _drop(movement_event("received", [("TKP-BLK-M", 1)]), "receipt_id"),
            "missing field: receipt_id",
        ),
        (
            json.dumps(movement_event("received", [("NOPE", 1)])),
            "line 1: unknown SKU NOPE",
        ),
    ],
)
def test_a_bad_movement_is_rejected_with_its_reason(
    spark: SparkSession, value: str, reason: str
) -> None:
    [found] = reasons(spark, [value])
    assert found is not None and found.startswith(reason)


def test_movement_rows_are_signed_and_carry_their_document(spark: SparkSession) -> None:
    back = return_event("S-1", [(2, "LGY-COT-BLU", 1, "18000.50")], return_id="R-1")
    fix = movement_event("adjusted", [("TKP-BLK-M", -2)], reason="damage")
    classified = classify(records(spark, [json.dumps(back), json.dumps(fix)]))
    rows = classified.orderBy("kafka_offset").select(movement_rows().alias("m")).collect()
    returned, adjusted = rows[0]["m"][0].asDict(), rows[1]["m"][0].asDict()

    assert (returned["line_id"], returned["sale_id"], returned["line_no"]) == ("R-1:2", "S-1", 2)
    assert returned["amount"] == Decimal("18000.50")
    assert returned["reason"] == "wrong size"
    assert (returned["local_date"], returned["year"], returned["month"]) == ("2026-11-29", 2026, 11)
    assert adjusted["quantity"] == -2
    assert adjusted["document_id"] == fix["adjustment_id"]
    assert adjusted["reason"] == "damage"


def test_sales_have_no_movement_rows_and_movements_no_sale_lines(spark: SparkSession) -> None:
    values = [json.dumps(good()), json.dumps(movement_event("received", [("TKP-BLK-M", 5)]))]
    classified = classify(records(spark, values)).orderBy("kafka_offset")
    rows = classified.select(sale_line_rows().alias("s"), movement_rows().alias("m")).collect()
    assert rows[0]["m"] is None and len(rows[0]["s"]) == 2
    assert rows[1]["s"] is None and len(rows[1]["m"]) == 1
