"""The event contract: the Spark schema agrees with the event models, and the shared
rules (low stock, return limits, reasons) say what the app and the stream job expect."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any, get_args
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, DataType, IntegerType, StringType, StructType
from sqlalchemy import Column, Integer, MetaData, Table
from sqlalchemy.dialects import mysql

from pos_app.contract import (
    ADJUSTMENT_REASONS,
    DOCUMENT_FIELD,
    EVENT_MODELS,
    PIPELINE_REQUIRED_FIELDS,
    AdjustmentReason,
    EventLine,
    EventPayment,
    EventTotals,
    MovementLine,
    ReturnableLine,
    ReturnLine,
    ReturnTotals,
    SaleCompleted,
    SaleReturned,
    StockAdjusted,
    StockReceived,
    StockTransferReceived,
    StockTransferSent,
    WantedBack,
    crossed_reorder_point,
    is_low,
    return_problem,
    transfer_receipt_id,
)
from stream_jobs.schema import EVENT_V1, SchemaConflict, merged_struct

NOW = datetime(2026, 11, 28, 10, 18, 42, tzinfo=ZoneInfo("Asia/Yangon"))


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _paths(kind: DataType, path: str = "") -> dict[str, str]:
    """Every leaf and array of a Spark type: path (`lines[].sku`) -> simple type."""
    if isinstance(kind, StructType):
        found: dict[str, str] = {}
        for field in kind.fields:
            assert field.nullable, f"{_join(path, field.name)} must be nullable"
            found |= _paths(field.dataType, _join(path, field.name))
        return found
    if isinstance(kind, ArrayType):
        return {path: "array", **_paths(kind.elementType, path + "[]")}
    return {path: kind.simpleString()}


def _json_paths(value: Any, path: str = "") -> dict[str, str]:
    """The same for a JSON value as an event model writes it."""
    if isinstance(value, dict):
        found: dict[str, str] = {}
        for key, item in value.items():
            found |= _json_paths(item, _join(path, key))
        return found
    if isinstance(value, list):
        found = {path: "array"}
        for item in value:
            found |= _json_paths(item, path + "[]")
        return found
    return {path: "int" if isinstance(value, int) else "string"}


def _declared(model: type[BaseModel], path: str = "") -> set[str]:
    """The same paths as the models declare them (without types)."""
    found: set[str] = set()
    for name, info in model.model_fields.items():
        here = _join(path, name)
        inner = _models_in(info.annotation)
        if "list[" in str(info.annotation):
            found.add(here)
            here += "[]"
        if inner:
            for m in inner:
                found |= _declared(m, here)
        else:
            found.add(here)
    return found


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


def samples() -> list[BaseModel]:
    discounted = EventLine(
        line_no=1,
        sku="TKP-BLK-M",
        name="Taikpon",
        quantity=2,
        unit_price=Decimal(61200),
        line_total=Decimal(122400),
        list_price=Decimal(68000),
        discount_percent=Decimal(10),
        discount=Decimal(13600),
        discount_reason="regular",
        unit_cost=Decimal(38000),
    )
    base = {"event_id": str(uuid.uuid4()), "store_id": "yangon-1", "occurred_at": NOW}
    return [
        SaleCompleted(
            **base,
            sale_id="S1",
            register_id="counter-1",
            cashier="Ko Aung",
            currency="MMK",
            lines=[discounted],
            totals=EventTotals.of([discounted]),
            payment=EventPayment(method="split", amount=Decimal(122400)),
            payments=[
                EventPayment(
                    method="cash",
                    amount=Decimal(22400),
                    tendered=Decimal(30000),
                    change=Decimal(7600),
                ),
                EventPayment(method="kbzpay", amount=Decimal(100000)),
            ],
        ),
        SaleReturned(
            **base,
            return_id="R1",
            sale_id="S1",
            register_id="counter-1",
            cashier="Ko Aung",
            currency="MMK",
            reason="wrong size",
            lines=[
                ReturnLine(
                    line_no=1,
                    sku="TKP-BLK-M",
                    name="Taikpon",
                    quantity=1,
                    unit_price=Decimal(61200),
                    line_total=Decimal(61200),
                )
            ],
            totals=ReturnTotals(items=1, refund=Decimal(61200)),
        ),
        StockReceived(
            **base,
            receipt_id="G1",
            recorded_by="manager",
            supplier="Mandalay Looms",
            note="box 3",
            purchase_order_id="PO1",
            lines=[MovementLine(line_no=1, sku="TKP-BLK-M", quantity=24, unit_cost=Decimal(38000))],
        ),
        StockAdjusted(
            **base,
            adjustment_id="A1",
            recorded_by="manager",
            reason="damage",
            lines=[MovementLine(line_no=1, sku="TKP-BLK-M", quantity=-2)],
        ),
        StockTransferSent(
            **base,
            transfer_id="TR1",
            from_store_id="yangon-1",
            to_store_id="mandalay-1",
            recorded_by="manager",
            lines=[MovementLine(line_no=1, sku="TKP-BLK-M", quantity=5)],
        ),
        StockTransferReceived(
            **{**base, "store_id": "mandalay-1"},
            transfer_id="TR1",
            receipt_id=transfer_receipt_id("TR1"),
            from_store_id="yangon-1",
            to_store_id="mandalay-1",
            recorded_by="manager",
            lines=[MovementLine(line_no=1, sku="TKP-BLK-M", quantity=5)],
        ),
    ]


def test_every_event_type_has_a_model_and_a_sample() -> None:
    assert {type(s) for s in samples()} == set(EVENT_MODELS.values())
    assert set(EVENT_MODELS) == set(DOCUMENT_FIELD) == set(PIPELINE_REQUIRED_FIELDS)


@pytest.mark.parametrize("event", samples(), ids=lambda e: type(e).__name__)
def test_the_spark_schema_has_every_field_an_event_writes(event: BaseModel) -> None:
    """Names, nesting and types: each field of the JSON a model writes is in the Spark
    schema, as an integer where the model has a whole number and a string otherwise."""
    schema = _paths(EVENT_V1)
    written = _json_paths(json.loads(event.model_dump_json()))
    for path, kind in written.items():
        assert path in schema, f"{type(event).__name__}.{path} is not in the Spark schema"
        assert schema[path] == kind, f"{path}: the model writes {kind}, Spark reads {schema[path]}"


def test_the_spark_schema_has_no_field_no_model_declares() -> None:
    declared = set().union(*(_declared(m) for m in EVENT_MODELS.values()))
    assert set(_paths(EVENT_V1)) == declared


def test_whole_numbers_are_integers_and_money_is_text() -> None:
    schema = _paths(EVENT_V1)
    assert schema["schema_version"] == "int"
    assert schema["lines[].quantity"] == "int"
    assert schema["lines[].line_no"] == "int"
    assert schema["totals.items"] == "int"
    for money in ("lines[].unit_price", "totals.total", "totals.refund", "payment.amount"):
        assert schema[money] == "string"
    assert schema["occurred_at"] == "string"  # classify checks its offset as text


def test_two_shapes_for_one_field_are_refused() -> None:
    class A(BaseModel):
        quantity: int

    class B(BaseModel):
        quantity: str

    with pytest.raises(SchemaConflict, match="quantity"):
        merged_struct([A, B])


def test_a_shared_nested_field_merges() -> None:
    class Inner1(BaseModel):
        a: int

    class Inner2(BaseModel):
        b: str

    class A(BaseModel):
        inner: Inner1

    class B(BaseModel):
        inner: Inner2 | None = None

    merged = merged_struct([A, B])
    assert merged["inner"].dataType == StructType(
        [
            *StructType().add("a", IntegerType(), True).fields,
            *StructType().add("b", StringType(), True).fields,
        ]
    )


def test_the_pipeline_requires_only_what_the_models_require() -> None:
    for event_type, names in PIPELINE_REQUIRED_FIELDS.items():
        model = EVENT_MODELS[event_type]
        for name in names:
            assert model.model_fields[name].is_required(), f"{event_type}.{name}"
        assert DOCUMENT_FIELD[event_type] in names


def test_the_reasons_are_the_models_reasons() -> None:
    assert get_args(AdjustmentReason) == ADJUSTMENT_REASONS
    assert StockAdjusted.model_fields["reason"].annotation == AdjustmentReason


def test_spark_reads_each_event_as_the_model_wrote_it(spark: SparkSession) -> None:
    events = samples()
    values = [e.model_dump_json() for e in events]
    frame = spark.createDataFrame([(v,) for v in values], "value string")
    rows = frame.select(F.from_json("value", EVENT_V1).alias("e")).collect()
    for value, row in zip(values, rows, strict=True):
        parsed = row["e"].asDict(recursive=True)
        written = json.loads(value)
        assert _without_nulls(parsed) == _without_nulls(written)


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


# --- the low-stock rule -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("on_hand", "reorder_point", "low"),
    [(5, 4, False), (4, 4, True), (3, 4, True), (0, 0, True), (1, 0, False), (-2, 0, True)],
)
def test_low_is_at_or_below_the_reorder_point(on_hand: int, reorder_point: int, low: bool) -> None:
    assert is_low(on_hand, reorder_point) is low


def test_the_low_stock_rule_is_also_the_sql_condition() -> None:
    table = Table("t", MetaData(), Column("on_hand", Integer), Column("reorder_point", Integer))
    condition = is_low(table.c.on_hand, table.c.reorder_point)
    assert str(condition.compile(dialect=mysql.dialect())) == "t.on_hand <= t.reorder_point"


@pytest.mark.parametrize(
    ("before", "after", "reorder_point", "alert"),
    [
        (10, 4, 4, True),  # down onto the point
        (10, 2, 4, True),  # down past it
        (4, 3, 4, False),  # already low: no second alert
        (3, 10, 4, False),  # back up
        (None, 4, 4, True),  # a first stock row below the point
        (None, 5, 4, False),
        (10, 9, 4, False),
    ],
)
def test_an_alert_once_per_crossing(
    before: int | None, after: int, reorder_point: int, alert: bool
) -> None:
    assert crossed_reorder_point(before, after, reorder_point) is alert


# --- return limits ----------------------------------------------------------------------

SALE = {
    1: ReturnableLine(1, "TKP-BLK-M", sold=2, returned=1),
    2: ReturnableLine(2, "LGY-COT-BLU", sold=3, returned=0),
}


def test_a_possible_return_has_no_problem() -> None:
    assert return_problem(SALE, [WantedBack(1, 1), WantedBack(2, 3, "LGY-COT-BLU")]) is None


def test_no_more_than_sold_less_returned() -> None:
    problem = return_problem(SALE, [WantedBack(2, 1), WantedBack(1, 2)])
    assert problem is not None
    assert problem.kind == "more than returnable"
    assert problem.wanted == WantedBack(1, 2)
    assert problem.line == SALE[1]
    assert problem.line.returnable == 1


def test_a_line_the_sale_does_not_have() -> None:
    assert return_problem(SALE, [WantedBack(3, 1)]).kind == "no such line"  # type: ignore[union-attr]
    wrong_sku = return_problem(SALE, [WantedBack(1, 1, "LGY-COT-BLU")])
    assert wrong_sku is not None and wrong_sku.kind == "no such line"


def test_a_line_named_twice() -> None:
    problem = return_problem(SALE, [WantedBack(2, 1), WantedBack(2, 1)])
    assert problem is not None and problem.kind == "line named twice"
