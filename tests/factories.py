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
