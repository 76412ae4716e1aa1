"""Ringing up a sale: price it from the catalog, build the event, publish it."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.catalog.service import products_by_sku
from pos_app.events.publisher import EventPublisher
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
    total = sum((line.line_total for line in lines), Decimal(0))
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
        totals=EventTotals(
            items=sum(line.quantity for line in lines),
            subtotal=total,
            discount=Decimal(0),
            total=total,
        ),
        payment=EventPayment(
            method=sale.payment.method,
            amount=total,
            tendered=tendered,
            change=(tendered - total) if tendered is not None else None,
        ),
    )


async def record_sale(
    conn: AsyncConnection, publisher: EventPublisher, sale: SaleIn, *, settings: Settings
) -> SaleCompleted:
    event = await price_sale(conn, sale, settings=settings)
    await publisher.publish_sale(event)
    return event
