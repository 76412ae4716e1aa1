"""The catalogue's multi-step work, each in the caller's one transaction: new products
with their opening stock, which travels through the pipeline as a receipt so that
on hand = opening + received - sold + returned ± adjusted keeps holding."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.auth.service import audit
from pos_app.catalog.products import ProductIn, check_new_products, insert_products
from pos_app.contract import StockReceived
from pos_app.events.movements import receipt_event
from pos_app.events.outbox import enqueue
from pos_app.settings import Settings

OPENING_STOCK = "opening stock"  # the receipt's supplier field, as the movements list shows it
OPENING_PREFIX = "OS"  # opening-stock receipts: OS<date>-<time>-<hex>


async def add_products(
    conn: AsyncConnection,
    items: Sequence[ProductIn],
    *,
    settings: Settings,
    user: str,
    actor: str,
) -> tuple[list[ProductIn], StockReceived | None]:
    """Check and store new products and, if any has opening stock, one receipt event for
    all of it (in the outbox, published when the caller's transaction commits).
    Returns the products as stored (barcodes settled) and the receipt."""
    settled = await check_new_products(conn, items)
    await insert_products(conn, settled, store_id=settings.store_id, actor=actor)
    stocked = [item for item in settled if item.opening_stock > 0]
    if not stocked:
        return settled, None
    event = receipt_event(
        settings=settings,
        user=user,
        supplier=OPENING_STOCK,
        note=f"opening stock of {len(stocked)} new product(s)",
        lines=[(item.sku, item.opening_stock) for item in stocked],
        prefix=OPENING_PREFIX,
    )
    event = await enqueue(conn, event, topic=settings.inventory_topic)
    await audit(
        conn,
        actor=actor,
        action=event.event_type,
        target=f"receipt:{event.receipt_id}",
        details={"lines": len(event.lines), "units": sum(li.quantity for li in event.lines)},
    )
    return settled, event
