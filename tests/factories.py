"""Test data: sale events as the contract in docs/events.md describes them."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any


def sale_event(
    lines: list[tuple[str, int, str]],
    *,
    sale_id: str | None = None,
    occurred_at: str = "2026-11-28T10:15:00+06:30",
    store_id: str = "yangon-1",
) -> dict[str, Any]:
    """A valid sale.completed v1 event; lines are (sku, quantity, unit price)."""
    event_lines = [
        {
            "line_no": n,
            "sku": sku,
            "name": f"Product {sku}",
            "quantity": qty,
            "unit_price": price,
            "line_total": str(Decimal(price) * qty),
        }
        for n, (sku, qty, price) in enumerate(lines, start=1)
    ]
    total = str(sum(Decimal(line["line_total"]) for line in event_lines))
    event = {
        "event_type": "sale.completed",
        "schema_version": 1,
        "event_id": str(uuid.uuid4()),
        "sale_id": sale_id or f"T-{uuid.uuid4().hex[:12]}",
        "store_id": store_id,
        "register_id": "counter-1",
        "cashier": "test",
        "occurred_at": occurred_at,
        "currency": "MMK",
        "lines": event_lines,
        "totals": {
            "items": sum(q for _, q, _ in lines),
            "subtotal": total,
            "discount": "0",
            "total": total,
        },
        "payment": {"method": "cash", "amount": total, "tendered": None, "change": None},
    }
    return event


def encode(event: dict[str, Any]) -> tuple[bytes, bytes]:
    return event["sale_id"].encode(), json.dumps(event).encode()


def return_event(
    sale_id: str,
    lines: list[tuple[int, str, int, str]],
    *,
    return_id: str | None = None,
    occurred_at: str = "2026-11-29T11:00:00+06:30",
    reason: str = "wrong size",
    store_id: str = "yangon-1",
) -> dict[str, Any]:
    """A valid sale.returned v1 event; lines are (line_no of the sale, sku, quantity,
    unit price)."""
    event_lines = [
        {
            "line_no": line_no,
            "sku": sku,
            "name": f"Product {sku}",
            "quantity": qty,
            "unit_price": price,
            "line_total": str(Decimal(price) * qty),
        }
        for line_no, sku, qty, price in lines
    ]
    return {
        "event_type": "sale.returned",
        "schema_version": 1,
        "event_id": str(uuid.uuid4()),
        "return_id": return_id or f"R-{uuid.uuid4().hex[:12]}",
        "sale_id": sale_id,
        "store_id": store_id,
        "register_id": "counter-1",
        "cashier": "test",
        "occurred_at": occurred_at,
        "currency": "MMK",
        "reason": reason,
        "lines": event_lines,
        "totals": {
            "items": sum(q for _, _, q, _ in lines),
            "refund": str(sum(Decimal(line["line_total"]) for line in event_lines)),
        },
    }


def movement_event(
    kind: str,
    lines: list[tuple[str, int]],
    *,
    reason: str = "count",
    occurred_at: str = "2026-11-28T09:00:00+06:30",
    store_id: str = "yangon-1",
) -> dict[str, Any]:
    """A valid stock.received (kind "received") or stock.adjusted ("adjusted") v1 event;
    lines are (sku, quantity)."""
    event: dict[str, Any] = {
        "event_type": f"stock.{kind}",
        "schema_version": 1,
        "event_id": str(uuid.uuid4()),
        "store_id": store_id,
        "recorded_by": "test",
        "occurred_at": occurred_at,
        "note": "",
        "lines": [
            {"line_no": n, "sku": sku, "quantity": qty}
            for n, (sku, qty) in enumerate(lines, start=1)
        ],
    }
    if kind == "received":
        event |= {"receipt_id": f"GR-{uuid.uuid4().hex[:12]}", "supplier": "Mandalay Weavers"}
    else:
        event |= {"adjustment_id": f"ADJ-{uuid.uuid4().hex[:12]}", "reason": reason}
    return event
