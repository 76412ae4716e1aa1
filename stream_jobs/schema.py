"""The Spark schema of the pipeline's v1 events, derived from the event models of the
contract (`pos_app.contract`): one struct with the fields of every event type,
`sale.completed`, `sale.returned`, `stock.received` and `stock.adjusted`; a field an
event type does not have is null. Every field is nullable: what a producer leaves out
is rejected by `transform.classify`, not by the parser.

Whole numbers (`int` in the models, the schema version) are integers; everything else
(money and other decimals, which travel as strings, timestamps, text) is read as a
string, so anything that does not fit becomes null here and is rejected by
`transform.classify`.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pyspark.sql.types import (
    ArrayType,
    DataType,
    IntegerType,
    StringType,
    StructField,
    StructType,
)

from pos_app.contract import EVENT_MODELS


class SchemaConflict(TypeError):
    """Two event models give one field two different shapes."""


def spark_type(annotation: Any) -> DataType:
    """The Spark type a JSON value of this Python annotation is read as."""
    origin = get_origin(annotation)
    if origin is typing.Annotated:
        return spark_type(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        present = [a for a in get_args(annotation) if a is not type(None)]
        if len(present) != 1:
            raise SchemaConflict(f"a union of several types has no Spark type: {annotation}")
        return spark_type(present[0])
    if origin is Literal:
        kinds = {type(value) for value in get_args(annotation)}
        return IntegerType() if kinds == {int} else StringType()
    if origin is list:
        return ArrayType(spark_type(get_args(annotation)[0]), True)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return merged_struct([annotation])
    if annotation is int:
        return IntegerType()
    return StringType()


def merged_struct(models: Iterable[type[BaseModel]]) -> StructType:
    """One struct with every field of the models, in first-seen order; a field the
    models share must have one Spark type (nested structs merge field by field)."""
    fields: dict[str, DataType] = {}
    for model in models:
        for name, info in model.model_fields.items():
            kind = spark_type(info.annotation)
            known = fields.get(name)
            fields[name] = kind if known is None else _merge(name, known, kind)
    return StructType([StructField(name, kind, True) for name, kind in fields.items()])


def _merge(name: str, known: DataType, new: DataType) -> DataType:
    if isinstance(known, StructType) and isinstance(new, StructType):
        return _merge_structs(known, new)
    if isinstance(known, ArrayType) and isinstance(new, ArrayType):
        return ArrayType(_merge(name, known.elementType, new.elementType), True)
    if known != new:
        raise SchemaConflict(f"field {name}: {known.simpleString()} and {new.simpleString()}")
    return known


def _merge_structs(known: StructType, new: StructType) -> StructType:
    fields = {f.name: f.dataType for f in known.fields}
    for field in new.fields:
        have = fields.get(field.name)
        fields[field.name] = (
            field.dataType if have is None else _merge(field.name, have, field.dataType)
        )
    return StructType([StructField(name, kind, True) for name, kind in fields.items()])


EVENT_V1 = merged_struct(EVENT_MODELS.values())
