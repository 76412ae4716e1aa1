"""Stock counts through the REST API: the same as the count page."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, Field

from pos_app.api_types import STRICT_INPUT
from pos_app.auth.deps import Principal, require_scope
from pos_app.auth.roles import INVENTORY_WRITE
from pos_app.db.unit_of_work import after_commit
from pos_app.deps import RelayDep, SettingsDep, TransactionDep
from pos_app.inventory.counts import MAX_COUNT, CountRejected, post_count
from pos_app.problems import AUTHENTICATED, WITH_BODY, problems

router = APIRouter(tags=["inventory"], responses=problems(AUTHENTICATED, 422))
InventoryWriter = Annotated[Principal, Depends(require_scope(INVENTORY_WRITE))]


class CountLineIn(BaseModel):
    model_config = STRICT_INPUT

    sku: str = Field(min_length=1, max_length=40)
    counted: int = Field(ge=0, le=MAX_COUNT)


class CountIn(BaseModel):
    model_config = STRICT_INPUT

    lines: list[CountLineIn] = Field(min_length=1, max_length=2000)


class VarianceOut(BaseModel):
    sku: str
    expected: int
    counted: int
    difference: int
    value_at_cost: Decimal


class CountOut(BaseModel):
    adjustment_id: str | None  # None: every count matched on hand
    lines: list[VarianceOut]
    units: int
    value_at_cost: Decimal


@router.post(
    "/api/v1/inventory/counts",
    status_code=status.HTTP_201_CREATED,
    response_model=CountOut,
    responses=problems(WITH_BODY),
)
async def post_stock_count(
    body: CountIn,
    conn: TransactionDep,
    relay: RelayDep,
    settings: SettingsDep,
    principal: InventoryWriter,
) -> CountOut:
    """Counted quantities: one `count` adjustment of each difference from on hand,
    through the pipeline, and the variance in units and in kyat at cost."""
    counted: dict[str, int] = {}
    for line in body.lines:
        if line.sku in counted:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, detail=f"{line.sku} is counted twice"
            )
        counted[line.sku] = line.counted
    try:
        result = await post_count(
            conn, counted, settings=settings, user=principal.name, actor=principal.actor
        )
    except CountRejected as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(error)) from None
    after_commit(conn, relay.wake)
    return CountOut(
        adjustment_id=result.adjustment.adjustment_id if result.adjustment else None,
        lines=[
            VarianceOut(
                sku=v.sku,
                expected=v.expected,
                counted=v.counted,
                difference=v.difference,
                value_at_cost=v.value,
            )
            for v in result.lines
        ],
        units=result.units,
        value_at_cost=result.value,
    )
