"""Goods received and stock adjustments: recorded with their event in the outbox and
applied to `stocks` by the stream job, like sales (so on hand has one writer)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.api_types import STRICT_INPUT
from pos_app.auth.service import audit
from pos_app.catalog.service import products_by_sku
from pos_app.contract import (
    AdjustmentReason,
    StockAdjusted,
    StockReceived,
)
from pos_app.db.tables import stock_movements
from pos_app.events.movements import adjustment_event as build_adjustment
from pos_app.events.movements import receipt_event as build_receipt
from pos_app.events.outbox import enqueue
from pos_app.i18n.zawgyi import MyanmarText
from pos_app.settings import Settings

M = TypeVar("M", StockReceived, StockAdjusted)

MAX_MOVE = 100_000
Sku = Annotated[str, Field(min_length=1, max_length=40)]
Note = Annotated[MyanmarText, Field(max_length=200)]


class _LineIn(BaseModel):
    model_config = STRICT_INPUT

    sku: Sku
    quantity: int


class ReceiptLineIn(_LineIn):
    quantity: int = Field(gt=0, le=MAX_MOVE)


class ReceiptIn(BaseModel):
    model_config = STRICT_INPUT

    supplier: Note = ""
    note: Note = ""
    lines: list[ReceiptLineIn] = Field(min_length=1, max_length=200)


class AdjustmentLineIn(_LineIn):
    quantity: int = Field(ge=-MAX_MOVE, le=MAX_MOVE, description="signed; never 0")


class AdjustmentIn(BaseModel):
    model_config = STRICT_INPUT

    reason: AdjustmentReason
    note: Note = ""
    lines: list[AdjustmentLineIn] = Field(min_length=1, max_length=200)


class MovementRejected(ValueError):
    """The movement cannot be recorded; the message says why (HTTP 422)."""


class Movement(BaseModel):
    document_id: str
    kind: str
    sku: str
    quantity: int
    reason: str
    recorded_by: str
    occurred_at: datetime


async def _check_skus(conn: AsyncConnection, skus: list[str], *, store_id: str) -> None:
    known = await products_by_sku(conn, skus, store_id=store_id)
    unknown = sorted(set(skus) - known.keys())
    if unknown:
        raise MovementRejected(f"unknown SKU: {', '.join(unknown)}")


def receipt_event(
    body: ReceiptIn, *, settings: Settings, user: str, prefix: str = "GR"
) -> StockReceived:
    """A receipt's event, not stored yet (the caller enqueues it in its transaction)."""
    return build_receipt(
        settings=settings,
        user=user,
        supplier=body.supplier,
        note=body.note,
        lines=[(line.sku, line.quantity) for line in body.lines],
        prefix=prefix,
    )


async def _record(
    conn: AsyncConnection,
    event: M,
    *,
    settings: Settings,
    actor: str,
    details: dict[str, Any],
) -> M:
    """The event in the outbox and its audit row, in the caller's transaction; the event
    as stored (the outbox may have given it a new document id)."""
    event = await enqueue(conn, event, topic=settings.inventory_topic)
    target = (
        f"receipt:{event.receipt_id}"
        if isinstance(event, StockReceived)
        else f"adjustment:{event.adjustment_id}"
    )
    await audit(conn, actor=actor, action=event.event_type, target=target, details=details)
    return event


async def record_receipt(
    conn: AsyncConnection, body: ReceiptIn, *, settings: Settings, user: str, actor: str
) -> StockReceived:
    await _check_skus(conn, [line.sku for line in body.lines], store_id=settings.store_id)
    event = receipt_event(body, settings=settings, user=user)
    units = sum(line.quantity for line in event.lines)
    return await _record(
        conn,
        event,
        settings=settings,
        actor=actor,
        details={"lines": len(event.lines), "units": units},
    )


async def record_adjustment(
    conn: AsyncConnection, body: AdjustmentIn, *, settings: Settings, user: str, actor: str
) -> StockAdjusted:
    zero = [line.sku for line in body.lines if line.quantity == 0]
    if zero:
        raise MovementRejected(f"an adjustment of 0 changes nothing: {', '.join(zero)}")
    await _check_skus(conn, [line.sku for line in body.lines], store_id=settings.store_id)
    event = build_adjustment(
        settings=settings,
        user=user,
        reason=body.reason,
        note=body.note,
        lines=[(line.sku, line.quantity) for line in body.lines],
    )
    return await _record(
        conn,
        event,
        settings=settings,
        actor=actor,
        details={"reason": body.reason, "lines": [[li.sku, li.quantity] for li in event.lines]},
    )


async def recent_movements(
    conn: AsyncConnection, *, store_id: str, limit: int = 50
) -> list[Movement]:
    """The latest receipts and adjustments the pipeline has applied."""
    rows = await conn.execute(
        select(stock_movements)
        .where(stock_movements.c.store_id == store_id)
        .order_by(stock_movements.c.occurred_at.desc(), stock_movements.c.line_id)
        .limit(limit)
    )
    return [Movement.model_validate(dict(row)) for row in rows.mappings()]
