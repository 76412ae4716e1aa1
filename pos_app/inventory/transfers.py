"""Transfers between the chain's stores: sent from this store (an event that takes the
units off its stock), in transit, then received at the other store (an event that adds
them there). Both travel through the pipeline like every stock movement; the app keeps
the transfer's status so a transfer is received once and lists show what is on the way."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, insert, select, union, update
from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.auth.service import audit
from pos_app.catalog.service import products_by_sku
from pos_app.contract import TRANSFER_SENT, StockTransferReceived
from pos_app.db.tables import (
    processed_events,
    product_stores,
    products,
    stocks,
    transfer_lines,
    transfers,
)
from pos_app.events.movements import transfer_received_event, transfer_sent_event
from pos_app.events.outbox import enqueue
from pos_app.i18n import N_, gettext
from pos_app.inventory.movements import MAX_MOVE, Note, Sku
from pos_app.settings import Settings

IN_TRANSIT: Final = "in_transit"
RECEIVED: Final = "received"
TransferStatus = Literal["in_transit", "received"]
StoreId = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._-]+$")]

SAME_STORE = N_("a transfer goes to another store, not to %(store)s itself")
UNKNOWN_STORE = N_("unknown store: %(store)s")
UNKNOWN_SKU = N_("unknown SKU: %(skus)s")
NAMED_TWICE = N_("a SKU is named twice: %(sku)s")
NOT_ON_HAND = N_("%(sku)s: %(wanted)s to send but only %(on_hand)s on hand")
NO_SUCH_TRANSFER = N_("no transfer %(id)s")
ALREADY_RECEIVED = N_("transfer %(id)s was already received")
NOT_HERE = N_("transfer %(id)s goes to %(store)s: it is received there")


class TransferLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Sku
    quantity: int = Field(gt=0, le=MAX_MOVE)


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to_store_id: StoreId
    note: Note = ""
    lines: list[TransferLineIn] = Field(min_length=1, max_length=200)


class TransferLine(BaseModel):
    line_no: int
    sku: str
    name: str
    quantity: int


class Transfer(BaseModel):
    transfer_id: str
    from_store_id: str
    to_store_id: str
    status: TransferStatus
    note: str
    sent_by: str
    sent_at: datetime
    received_by: str | None
    received_at: datetime | None
    lines: list[TransferLine]

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)


class TransferRejected(ValueError):
    """Bad input: the message says why (HTTP 422, the page's error)."""


class TransferNotFound(LookupError):
    """No such transfer (HTTP 404)."""


class TransferConflict(ValueError):
    """The transfer cannot be received (here, or again): HTTP 409."""


async def chain_stores(conn: AsyncConnection, *, settings: Settings) -> list[str]:
    """The stores of the chain: this one, and every store that sells or stocks a product."""
    found = await conn.scalars(union(select(product_stores.c.store_id), select(stocks.c.store_id)))
    return sorted({settings.store_id, *found})


async def send_transfer(
    conn: AsyncConnection, body: TransferIn, *, settings: Settings, user: str, actor: str
) -> Transfer:
    """Record a transfer from this store and its `stock.transfer_sent` event, in the
    caller's transaction; refuses the same store, an unknown store or SKU, a SKU named
    twice and more units than this store has on hand."""
    here = settings.store_id
    if body.to_store_id == here:
        raise TransferRejected(gettext(SAME_STORE, store=here))
    if body.to_store_id not in await chain_stores(conn, settings=settings):
        raise TransferRejected(gettext(UNKNOWN_STORE, store=body.to_store_id))
    skus = [line.sku for line in body.lines]
    twice = sorted({sku for sku in skus if skus.count(sku) > 1})
    if twice:
        raise TransferRejected(gettext(NAMED_TWICE, sku=", ".join(twice)))
    known = await products_by_sku(conn, skus, store_id=here)
    unknown = sorted(set(skus) - known.keys())
    if unknown:
        raise TransferRejected(gettext(UNKNOWN_SKU, skus=", ".join(unknown)))
    # Locked, so two transfers at once cannot both send the same last units.
    locked = await conn.execute(
        select(stocks.c.sku, stocks.c.on_hand)
        .where(stocks.c.store_id == here, stocks.c.sku.in_(skus))
        .with_for_update()
    )
    on_hand = {row.sku: row.on_hand for row in locked}
    for line in body.lines:
        have = on_hand.get(line.sku, 0) - await _in_transit_unapplied(conn, here, line.sku)
        if line.quantity > have:
            raise TransferRejected(
                gettext(NOT_ON_HAND, sku=line.sku, wanted=line.quantity, on_hand=max(have, 0))
            )
    event = transfer_sent_event(
        settings=settings,
        user=user,
        to_store_id=body.to_store_id,
        note=body.note,
        lines=[(line.sku, line.quantity) for line in body.lines],
    )
    event = await enqueue(conn, event, topic=settings.inventory_topic)
    await conn.execute(
        insert(transfers).values(
            transfer_id=event.transfer_id,
            from_store_id=event.from_store_id,
            to_store_id=event.to_store_id,
            status=IN_TRANSIT,
            note=event.note,
            sent_by=user,
            sent_at=_utc(event.occurred_at),
        )
    )
    await conn.execute(
        insert(transfer_lines),
        [
            {
                "transfer_id": event.transfer_id,
                "line_no": line.line_no,
                "sku": line.sku,
                "quantity": line.quantity,
            }
            for line in event.lines
        ],
    )
    await audit(
        conn,
        actor=actor,
        action=event.event_type,
        target=f"transfer:{event.transfer_id}",
        details={"to": event.to_store_id, "lines": [[li.sku, li.quantity] for li in event.lines]},
    )
    return await get_transfer(conn, event.transfer_id)


async def _in_transit_unapplied(conn: AsyncConnection, store_id: str, sku: str) -> int:
    """Units of this store's transfers whose sent event the pipeline has not applied yet:
    on hand does not show them gone, but they are no longer here to send."""
    applied = select(processed_events.c.sale_id).where(
        processed_events.c.event_type == TRANSFER_SENT
    )
    total = await conn.scalar(
        select(func.coalesce(func.sum(transfer_lines.c.quantity), 0))
        .join(transfers, transfers.c.transfer_id == transfer_lines.c.transfer_id)
        .where(
            transfers.c.from_store_id == store_id,
            transfer_lines.c.sku == sku,
            transfers.c.transfer_id.not_in(applied),
        )
    )
    return int(total or 0)


async def receive_transfer(
    conn: AsyncConnection, transfer_id: str, *, settings: Settings, user: str, actor: str
) -> Transfer:
    """Record the arrival of a transfer at this store and its `stock.transfer_received`
    event: all its lines, as sent, once."""
    row = (
        (
            await conn.execute(
                select(transfers).where(transfers.c.transfer_id == transfer_id).with_for_update()
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise TransferNotFound(gettext(NO_SUCH_TRANSFER, id=transfer_id))
    if row["status"] == RECEIVED:
        raise TransferConflict(gettext(ALREADY_RECEIVED, id=transfer_id))
    if row["to_store_id"] != settings.store_id:
        raise TransferConflict(gettext(NOT_HERE, id=transfer_id, store=row["to_store_id"]))
    transfer = await get_transfer(conn, transfer_id)
    event: StockTransferReceived = transfer_received_event(
        settings=settings,
        user=user,
        transfer_id=transfer_id,
        from_store_id=transfer.from_store_id,
        to_store_id=transfer.to_store_id,
        lines=[(line.sku, line.quantity) for line in transfer.lines],
    )
    event = await enqueue(conn, event, topic=settings.inventory_topic)
    await conn.execute(
        update(transfers)
        .where(transfers.c.transfer_id == transfer_id)
        .values(status=RECEIVED, received_by=user, received_at=_utc(event.occurred_at))
    )
    # The receiving store now sells what arrived (a store's counter shows only its products).
    have = set(
        await conn.scalars(
            select(product_stores.c.sku).where(product_stores.c.store_id == settings.store_id)
        )
    )
    new = sorted({line.sku for line in transfer.lines} - have)
    if new:
        await conn.execute(
            insert(product_stores), [{"store_id": settings.store_id, "sku": sku} for sku in new]
        )
    await audit(
        conn,
        actor=actor,
        action=event.event_type,
        target=f"transfer:{transfer_id}",
        details={"from": transfer.from_store_id, "units": transfer.units},
    )
    return await get_transfer(conn, transfer_id)


async def get_transfer(conn: AsyncConnection, transfer_id: str) -> Transfer:
    found = await _transfers(conn, transfers.c.transfer_id == transfer_id)
    if not found:
        raise TransferNotFound(gettext(NO_SUCH_TRANSFER, id=transfer_id))
    return found[0]


async def list_transfers(
    conn: AsyncConnection, *, store_id: str, status: TransferStatus | None = None, limit: int = 100
) -> list[Transfer]:
    """The transfers from or to a store, newest first."""
    where = (transfers.c.from_store_id == store_id) | (transfers.c.to_store_id == store_id)
    if status is not None:
        where = where & (transfers.c.status == status)
    return await _transfers(conn, where, limit=limit)


async def _transfers(conn: AsyncConnection, where: object, *, limit: int = 100) -> list[Transfer]:
    heads = (
        (
            await conn.execute(
                select(transfers)
                .where(where)  # type: ignore[arg-type]
                .order_by(transfers.c.sent_at.desc(), transfers.c.transfer_id)
                .limit(limit)
            )
        )
        .mappings()
        .all()
    )
    if not heads:
        return []
    ids = [head["transfer_id"] for head in heads]
    lines: dict[str, list[TransferLine]] = {transfer_id: [] for transfer_id in ids}
    for row in (
        await conn.execute(
            select(
                transfer_lines.c.transfer_id,
                transfer_lines.c.line_no,
                transfer_lines.c.sku,
                products.c.name,
                transfer_lines.c.quantity,
            )
            .join(products, products.c.sku == transfer_lines.c.sku)
            .where(transfer_lines.c.transfer_id.in_(ids))
            .order_by(transfer_lines.c.transfer_id, transfer_lines.c.line_no)
        )
    ).mappings():
        lines[row["transfer_id"]].append(
            TransferLine(
                line_no=row["line_no"], sku=row["sku"], name=row["name"], quantity=row["quantity"]
            )
        )
    return [Transfer(**dict(head), lines=lines[head["transfer_id"]]) for head in heads]


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)
