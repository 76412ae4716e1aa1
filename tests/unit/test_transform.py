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
        (with_line(unit_cost="cheap"), "line 1: unit_cost must be a non-negative decimal"),
        (with_line(unit_cost="-1.00"), "line 1: unit_cost must be a non-negative decimal"),
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
    assert first["unit_cost"] is None  # an event without costs: margin unknown


def test_a_sale_line_keeps_its_unit_cost(spark: SparkSession) -> None:
    event = good()
    event["lines"][0]["unit_cost"] = "38000.00"
    classified = classify(records(spark, [json.dumps(event)]))
    rows = [r.asDict() for r in sale_lines(classified).orderBy("line_no").collect()]
    assert [r["unit_cost"] for r in rows] == [Decimal("38000.00"), None]


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


def transfer(kind: str, **changes: Any) -> dict[str, Any]:
    """A valid transfer event: sent from yangon-1 or received at mandalay-1."""
    sent = kind == "sent"
    event = {
        "event_type": "stock.transfer_sent" if sent else "stock.transfer_received",
        "schema_version": 1,
        "event_id": f"{kind}-event",
        "transfer_id": "TR20261201-100000-ABCDEF",
        "store_id": "yangon-1" if sent else "mandalay-1",
        "from_store_id": "yangon-1",
        "to_store_id": "mandalay-1",
        "recorded_by": "manager",
        "occurred_at": "2026-12-01T10:00:00+06:30",
        "lines": [{"line_no": 1, "sku": "TKP-BLK-M", "quantity": 5}],
    }
    if not sent:
        event["receipt_id"] = "TR20261201-100000-ABCDEF-IN"
    return {**event, **changes}


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (transfer("sent"), None),
        (transfer("received"), None),
        (transfer("sent", to_store_id="yangon-1"), "a transfer needs two different stores"),
        (
            transfer("sent", store_id="mandalay-1"),
            "store_id of a sent transfer must be its from_store_id",
        ),
        (
            transfer("received", store_id="yangon-1"),
            "store_id of a received transfer must be its to_store_id",
        ),
        (
            transfer("received", receipt_id="OTHER"),
            "receipt_id of a received transfer must be TR20261201-100000-ABCDEF-IN",
        ),
        (
            {k: v for k, v in transfer("received").items() if k != "transfer_id"},
            "missing field: transfer_id",
        ),
        (
            transfer("sent", lines=[{"line_no": 1, "sku": "TKP-BLK-M", "quantity": -5}]),
            "line 1: quantity must be a positive whole number",
        ),
    ],
)
def test_a_transfer_is_checked(spark: SparkSession, event: dict[str, Any], reason: str) -> None:
    assert reasons(spark, [json.dumps(event)]) == [reason]


def test_transfer_rows_name_their_side_and_the_other_store(spark: SparkSession) -> None:
    values = [json.dumps(transfer("sent")), json.dumps(transfer("received"))]
    classified = classify(records(spark, values)).orderBy("kafka_offset")
    rows = classified.select(movement_rows().alias("m")).collect()
    sent, arrived = rows[0]["m"][0].asDict(), rows[1]["m"][0].asDict()
    assert (sent["line_id"], sent["store_id"], sent["quantity"]) == (
        "TR20261201-100000-ABCDEF:1",
        "yangon-1",
        5,  # positive here: StockMovement signs it by the event type
    )
    assert sent["reason"] == "to mandalay-1 TR20261201-100000-ABCDEF"
    assert (arrived["line_id"], arrived["store_id"]) == (
        "TR20261201-100000-ABCDEF-IN:1",
        "mandalay-1",
    )
    assert arrived["reason"] == "from yangon-1 TR20261201-100000-ABCDEF"
