"""Stock movements' events, built once for everything that moves stock: goods receipts
(the Receive page and API, opening stock of new products, purchase orders) and count
adjustments. The caller stores them in the outbox in its own transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from pos_app.contract import (
    AdjustmentReason,
    MovementLine,
    StockAdjusted,
    StockReceived,
    StockTransferReceived,
    StockTransferSent,
    transfer_receipt_id,
)
from pos_app.events.outbox import new_document_id
from pos_app.settings import Settings


def _shared(
    settings: Settings,
    user: str,
    prefix: str,
    lines: Sequence[tuple[str, int]],
    store_id: str | None = None,
    unit_costs: Sequence[Decimal | None] | None = None,
) -> tuple[str, dict[str, Any]]:
    """A new document id, and the fields every movement event carries."""
    now = datetime.now(ZoneInfo(settings.shop_timezone))
    return new_document_id(prefix, now), {
        "event_id": str(uuid.uuid4()),
        "store_id": store_id or settings.store_id,
        "recorded_by": user,
        "occurred_at": now,
        "lines": [
            MovementLine(
                line_no=n,
                sku=sku,
                quantity=quantity,
                unit_cost=unit_costs[n - 1] if unit_costs is not None else None,
            )
            for n, (sku, quantity) in enumerate(lines, start=1)
        ],
    }


def receipt_event(
    *,
    settings: Settings,
    user: str,
    supplier: str,
    note: str,
    lines: Sequence[tuple[str, int]],
    prefix: str = "GR",
    purchase_order_id: str | None = None,
    unit_costs: Sequence[Decimal | None] | None = None,
) -> StockReceived:
    """`lines` are (SKU, units received), in the order they are numbered; against a
    purchase order, its id and each line's cost per unit (`unit_costs`, same order)."""
    receipt_id, shared = _shared(settings, user, prefix, lines, unit_costs=unit_costs)
    return StockReceived(
        receipt_id=receipt_id,
        supplier=supplier,
        note=note,
        purchase_order_id=purchase_order_id,
        **shared,
    )


def adjustment_event(
    *,
    settings: Settings,
    user: str,
    reason: AdjustmentReason,
    note: str,
    lines: Sequence[tuple[str, int]],
    prefix: str = "ADJ",
) -> StockAdjusted:
    """`lines` are (SKU, signed change), none of them 0."""
    adjustment_id, shared = _shared(settings, user, prefix, lines)
    return StockAdjusted(adjustment_id=adjustment_id, reason=reason, note=note, **shared)


def transfer_sent_event(
    *, settings: Settings, user: str, to_store_id: str, note: str, lines: Sequence[tuple[str, int]]
) -> StockTransferSent:
    """Goods leaving this store (settings.store_id) for another; `lines` are (SKU, units)."""
    transfer_id, shared = _shared(settings, user, "TR", lines)
    return StockTransferSent(
        transfer_id=transfer_id,
        from_store_id=settings.store_id,
        to_store_id=to_store_id,
        note=note,
        **shared,
    )


def transfer_received_event(
    *,
    settings: Settings,
    user: str,
    transfer_id: str,
    from_store_id: str,
    to_store_id: str,
    lines: Sequence[tuple[str, int]],
) -> StockTransferReceived:
    """The arrival of a transfer at its store: the lines as sent, under its one receipt id."""
    _, shared = _shared(settings, user, "TR", lines, store_id=to_store_id)
    return StockTransferReceived(
        transfer_id=transfer_id,
        receipt_id=transfer_receipt_id(transfer_id),
        from_store_id=from_store_id,
        to_store_id=to_store_id,
        **shared,
    )
