"""Ringing up a sale: price it from the catalog, build the event, store both."""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.auth.service import audit
from pos_app.catalog.service import products_by_sku
from pos_app.db.tables import idempotency_keys
from pos_app.events.outbox import enqueue
from pos_app.events.schemas import EventLine, EventPayment, EventTotals, SaleCompleted
from pos_app.sales.schemas import SaleIn
from pos_app.settings import Settings


class SaleRejected(ValueError):
    """The request cannot become a sale; the message says why (sent as HTTP 422)."""


def new_sale_id(now: datetime) -> str:
    # Sortable by time, readable on a receipt, unique without a round trip.
    return f"S{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3).upper()}"


async def price_sale(
    conn: AsyncConnection, sale: SaleIn, *, settings: Settings, now: datetime | None = None
) -> SaleCompleted:
    catalog = await products_by_sku(conn, (line.sku for line in sale.lines))
    unknown = sorted({line.sku for line in sale.lines} - catalog.keys())
    if unknown:
        raise SaleRejected(f"unknown SKU: {', '.join(unknown)}")
    inactive = sorted({line.sku for line in sale.lines if not catalog[line.sku].active})
    if inactive:
        raise SaleRejected(f"no longer sold: {', '.join(inactive)}")

    lines = [
        EventLine(
            line_no=number,
            sku=line.sku,
            name=catalog[line.sku].name,
            quantity=line.quantity,
            unit_price=catalog[line.sku].unit_price,
            line_total=catalog[line.sku].unit_price * line.quantity,
        )
        for number, line in enumerate(sale.lines, start=1)
    ]
    totals = EventTotals.of(lines)
    total = totals.total
    tendered = sale.payment.tendered
    if sale.payment.method == "cash" and tendered is not None and tendered < total:
        raise SaleRejected(f"cash tendered {tendered} is less than the total {total}")

    now = now or datetime.now(ZoneInfo(settings.shop_timezone))
    return SaleCompleted(
        event_id=str(uuid.uuid4()),
        sale_id=new_sale_id(now),
        store_id=settings.store_id,
        register_id=sale.register_id or settings.register_id,
        cashier=sale.cashier,
        occurred_at=now,
        currency=settings.currency,
        lines=lines,
        totals=totals,
        payment=EventPayment(
            method=sale.payment.method,
            amount=total,
            tendered=tendered,
            change=(tendered - total) if tendered is not None else None,
        ),
    )


class IdempotencyConflict(ValueError):
    """An Idempotency-Key was used before with a different request (HTTP 422)."""


@dataclass(frozen=True)
class RecordedSale:
    event: SaleCompleted
    replayed: bool  # True when an Idempotency-Key gave back an earlier sale


def request_fingerprint(sale: SaleIn) -> str:
    canonical = json.dumps(sale.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def record_sale(
    conn: AsyncConnection,
    sale: SaleIn,
    *,
    settings: Settings,
    client: str,  # the principal: scopes Idempotency-Keys and signs the audit row
    idempotency_key: str | None = None,
) -> RecordedSale:
    """Price the sale and store it with its event in one transaction (the outbox).

    It does not wait for Kafka: once this commits the sale is recorded, and the relay
    publishes it. With an Idempotency-Key, a retry of the same request returns the first
    sale instead of ringing up a second one."""
    fingerprint = request_fingerprint(sale)
    if idempotency_key is not None:
        earlier = await _earlier_sale(conn, client, idempotency_key, fingerprint)
        if earlier is not None:
            return RecordedSale(earlier, replayed=True)
    event = await price_sale(conn, sale, settings=settings)
    await enqueue(conn, event, topic=settings.sales_topic)
    await audit(
        conn,
        actor=client,
        action="sale.completed",
        target=f"sale:{event.sale_id}",
        details={"total": str(event.totals.total), "items": event.totals.items},
    )
    if idempotency_key is not None:
        await conn.execute(
            insert(idempotency_keys).values(
                client=client,
                idempotency_key=idempotency_key,
                request_hash=fingerprint,
                sale_id=event.sale_id,
                response=event.model_dump_json(),
            )
        )
    try:
        await conn.commit()
    except IntegrityError:
        # The same key raced us and won: answer as a retry would have been answered.
        await conn.rollback()
        if idempotency_key is None:
            raise
        earlier = await _earlier_sale(conn, client, idempotency_key, fingerprint)
        if earlier is None:
            raise
        return RecordedSale(earlier, replayed=True)
    return RecordedSale(event, replayed=False)


async def _earlier_sale(
    conn: AsyncConnection, client: str, key: str, fingerprint: str
) -> SaleCompleted | None:
    row = (
        await conn.execute(
            select(idempotency_keys.c.request_hash, idempotency_keys.c.response).where(
                idempotency_keys.c.client == client,
                idempotency_keys.c.idempotency_key == key,
            )
        )
    ).one_or_none()
    if row is None:
        return None
    if row.request_hash != fingerprint:
        raise IdempotencyConflict(
            "this Idempotency-Key was already used with a different request body"
        )
    return SaleCompleted.model_validate_json(row.response)
