"""Suppliers and purchase orders. An order goes draft -> ordered -> partly received ->
received (or cancelled); goods received against it are a `stock.received` event through
the pipeline like any receipt, naming the order and its supplier, so on hand keeps one
writer. Services take the caller's connection and never commit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.auth.service import audit
from pos_app.contract import StockReceived
from pos_app.db.tables import (
    products,
    purchase_order_lines,
    purchase_orders,
    refill_plan,
    suppliers,
)
from pos_app.events.movements import receipt_event as build_receipt
from pos_app.events.outbox import enqueue, new_document_id
from pos_app.settings import Settings

DRAFT: Final = "draft"
ORDERED: Final = "ordered"
PARTLY: Final = "partly_received"
RECEIVED: Final = "received"
CANCELLED: Final = "cancelled"
OPEN = (ORDERED, PARTLY)  # on order: counted by the refill plan
MAX_UNITS = 100_000

NO_SUPPLIER = "no such supplier"
SUPPLIER_TAKEN = "a supplier named {name} already exists"
NO_ORDER = "no purchase order {po_id}"
NOT_DRAFT = "order {po_id} is {status}: only a draft can be changed"
CANNOT = "order {po_id} is {status}: it cannot be {action}"
EMPTY_ORDER = "an order needs at least one line with a quantity"
UNKNOWN_SKU = "unknown SKU {sku}"
OVER = (
    "line {line} ({sku}): {qty} received but only {left} still to come; tick "
    "'more than ordered' to record it anyway"
)
NOTHING_RECEIVED = "enter the quantity received on at least one line"
NOTHING_PLANNED = "the refill plan suggests nothing to order; add lines by hand"


class PurchaseRejected(ValueError):
    """The order or supplier cannot be changed as asked; the message says why."""


class SupplierIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=120)
    phone: str | None = Field(default=None, max_length=40)
    viber: str | None = Field(default=None, max_length=40)
    lead_time_days: int = Field(default=7, ge=0, le=365)
    notes: str | None = Field(default=None, max_length=500)

    @field_validator("phone", "viber", "notes", mode="before")
    @classmethod
    def _blank(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value


class Supplier(SupplierIn):
    model_config = ConfigDict(extra="ignore")  # a row also has created_at

    id: int


@dataclass(frozen=True)
class OrderLine:
    line_no: int
    sku: str
    name: str
    quantity: int
    unit_cost: Decimal
    received: int

    @property
    def outstanding(self) -> int:
        return max(self.quantity - self.received, 0)

    @property
    def line_cost(self) -> Decimal:
        return self.unit_cost * self.quantity


@dataclass(frozen=True)
class Order:
    po_id: str
    supplier: Supplier
    store_id: str
    status: str
    created_by: str
    created_at: datetime
    ordered_at: datetime | None
    expected_on: date | None
    lines: list[OrderLine]

    @property
    def total_cost(self) -> Decimal:
        return sum((line.line_cost for line in self.lines), Decimal(0))


async def list_suppliers(conn: AsyncConnection) -> list[Supplier]:
    rows = await conn.execute(select(suppliers).order_by(suppliers.c.name))
    return [Supplier.model_validate(dict(r)) for r in rows.mappings()]


async def get_supplier(conn: AsyncConnection, supplier_id: int) -> Supplier:
    row = (
        (await conn.execute(select(suppliers).where(suppliers.c.id == supplier_id)))
        .mappings()
        .first()
    )
    if row is None:
        raise PurchaseRejected(NO_SUPPLIER)
    return Supplier.model_validate(dict(row))


async def save_supplier(
    conn: AsyncConnection, body: SupplierIn, *, actor: str, supplier_id: int | None = None
) -> int:
    values = body.model_dump()
    try:
        if supplier_id is None:
            result = await conn.execute(insert(suppliers).values(**values))
            supplier_id = int(result.inserted_primary_key[0])  # type: ignore[index]
        else:
            await get_supplier(conn, supplier_id)
            await conn.execute(
                update(suppliers).where(suppliers.c.id == supplier_id).values(**values)
            )
    except IntegrityError:
        raise PurchaseRejected(SUPPLIER_TAKEN.format(name=body.name)) from None
    await audit(
        conn, actor=actor, action="supplier.saved", target=f"supplier:{supplier_id}", details=values
    )
    return supplier_id


async def _costs(conn: AsyncConnection, skus: Sequence[str]) -> dict[str, Decimal | None]:
    rows = await conn.execute(
        select(products.c.sku, products.c.cost_price).where(products.c.sku.in_(list(skus)))
    )
    return {r.sku: r.cost_price for r in rows}


async def plan_suggestions(conn: AsyncConnection, *, store_id: str) -> list[tuple[str, int]]:
    """(SKU, units) the refill plan suggests ordering in its first month."""
    first = await conn.scalar(
        select(func.min(refill_plan.c.plan_month)).where(refill_plan.c.store_id == store_id)
    )
    if first is None:
        return []
    rows = await conn.execute(
        select(refill_plan.c.sku, refill_plan.c.suggested_order)
        .where(
            refill_plan.c.store_id == store_id,
            refill_plan.c.plan_month == first,
            refill_plan.c.suggested_order > 0,
        )
        .order_by(refill_plan.c.sku)
    )
    return [(r.sku, int(r.suggested_order)) for r in rows]


async def create_order(
    conn: AsyncConnection,
    *,
    supplier_id: int,
    lines: Sequence[tuple[str, int]],
    settings: Settings,
    actor: str,
) -> str:
    """A draft order; each line's cost is the product's cost price (editable in the draft)."""
    await get_supplier(conn, supplier_id)
    wanted = [(sku, qty) for sku, qty in lines if qty > 0]
    if not wanted:
        raise PurchaseRejected(EMPTY_ORDER)
    costs = await _costs(conn, [sku for sku, _ in wanted])
    for sku, _ in wanted:
        if sku not in costs:
            raise PurchaseRejected(UNKNOWN_SKU.format(sku=sku))
    now = datetime.now(ZoneInfo(settings.shop_timezone))
    po_id = new_document_id("PO", now)
    await conn.execute(
        insert(purchase_orders).values(
            po_id=po_id,
            supplier_id=supplier_id,
            store_id=settings.store_id,
            status=DRAFT,
            created_by=actor[:80],
        )
    )
    await conn.execute(
        insert(purchase_order_lines),
        [
            {
                "po_id": po_id,
                "line_no": n,
                "sku": sku,
                "quantity": min(qty, MAX_UNITS),
                "unit_cost": costs[sku] or Decimal(0),
            }
            for n, (sku, qty) in enumerate(wanted, start=1)
        ],
    )
    await audit(
        conn,
        actor=actor,
        action="purchase_order.created",
        target=f"purchase_order:{po_id}",
        details={"supplier_id": supplier_id, "lines": [[s, q] for s, q in wanted]},
    )
    return po_id


async def get_order(conn: AsyncConnection, po_id: str, *, lock: bool = False) -> Order:
    query = select(purchase_orders).where(purchase_orders.c.po_id == po_id)
    if lock:
        query = query.with_for_update()
    row = (await conn.execute(query)).mappings().first()
    if row is None:
        raise LookupError(NO_ORDER.format(po_id=po_id))
    lines = await conn.execute(
        select(purchase_order_lines, products.c.name)
        .join(products, products.c.sku == purchase_order_lines.c.sku)
        .where(purchase_order_lines.c.po_id == po_id)
        .order_by(purchase_order_lines.c.line_no)
    )
    return Order(
        po_id=row["po_id"],
        supplier=await get_supplier(conn, row["supplier_id"]),
        store_id=row["store_id"],
        status=row["status"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        ordered_at=row["ordered_at"],
        expected_on=row["expected_on"],
        lines=[
            OrderLine(
                line_no=r.line_no,
                sku=r.sku,
                name=r.name,
                quantity=r.quantity,
                unit_cost=r.unit_cost,
                received=r.received,
            )
            for r in lines
        ],
    )


async def list_orders(conn: AsyncConnection, *, store_id: str) -> list[dict[str, Any]]:
    outstanding = func.sum(purchase_order_lines.c.quantity - purchase_order_lines.c.received)
    rows = await conn.execute(
        select(
            purchase_orders,
            suppliers.c.name.label("supplier"),
            func.sum(purchase_order_lines.c.quantity).label("units"),
            outstanding.label("outstanding"),
            func.sum(purchase_order_lines.c.quantity * purchase_order_lines.c.unit_cost).label(
                "cost"
            ),
        )
        .join(suppliers, suppliers.c.id == purchase_orders.c.supplier_id)
        .join(purchase_order_lines, purchase_order_lines.c.po_id == purchase_orders.c.po_id)
        .where(purchase_orders.c.store_id == store_id)
        .group_by(purchase_orders.c.po_id)
        .order_by(purchase_orders.c.created_at.desc())
        .limit(200)
    )
    return [dict(r) for r in rows.mappings()]


async def save_draft_lines(
    conn: AsyncConnection,
    po_id: str,
    *,
    changes: dict[int, tuple[int, Decimal]],
    new_line: tuple[str, int, Decimal | None] | None,
    actor: str,
) -> None:
    """Quantities and costs of a draft's lines (0 removes a line), and a line added."""
    order = await get_order(conn, po_id, lock=True)
    if order.status != DRAFT:
        raise PurchaseRejected(NOT_DRAFT.format(po_id=po_id, status=order.status))
    for line_no, (qty, cost) in changes.items():
        where = (purchase_order_lines.c.po_id == po_id) & (
            purchase_order_lines.c.line_no == line_no
        )
        if qty <= 0:
            await conn.execute(purchase_order_lines.delete().where(where))
        else:
            await conn.execute(
                update(purchase_order_lines)
                .where(where)
                .values(quantity=min(qty, MAX_UNITS), unit_cost=cost)
            )
    if new_line is not None:
        sku, qty, typed_cost = new_line
        costs = await _costs(conn, [sku])
        if sku not in costs:
            raise PurchaseRejected(UNKNOWN_SKU.format(sku=sku))
        last = max((line.line_no for line in order.lines), default=0)
        await conn.execute(
            insert(purchase_order_lines).values(
                po_id=po_id,
                line_no=last + 1,
                sku=sku,
                quantity=min(qty, MAX_UNITS),
                unit_cost=typed_cost if typed_cost is not None else costs[sku] or Decimal(0),
            )
        )
    left = await conn.scalar(
        select(func.count())
        .select_from(purchase_order_lines)
        .where(purchase_order_lines.c.po_id == po_id)
    )
    if not left:
        raise PurchaseRejected(EMPTY_ORDER)
    await audit(
        conn,
        actor=actor,
        action="purchase_order.changed",
        target=f"purchase_order:{po_id}",
        details={"changes": {str(k): [q, c] for k, (q, c) in changes.items()}, "added": new_line},
    )


async def place_order(conn: AsyncConnection, po_id: str, *, today: date, actor: str) -> None:
    """Draft -> ordered: expected on today + the supplier's lead time."""
    order = await get_order(conn, po_id, lock=True)
    if order.status != DRAFT:
        raise PurchaseRejected(CANNOT.format(po_id=po_id, status=order.status, action="ordered"))
    expected = today + timedelta(days=order.supplier.lead_time_days)
    await conn.execute(
        update(purchase_orders)
        .where(purchase_orders.c.po_id == po_id)
        .values(status=ORDERED, ordered_at=func.now(3), expected_on=expected)
    )
    await audit(
        conn,
        actor=actor,
        action="purchase_order.ordered",
        target=f"purchase_order:{po_id}",
        details={"expected_on": expected},
    )


async def cancel_order(conn: AsyncConnection, po_id: str, *, actor: str) -> None:
    """Whatever was not received yet is no longer expected."""
    order = await get_order(conn, po_id, lock=True)
    if order.status not in (DRAFT, ORDERED, PARTLY):
        raise PurchaseRejected(CANNOT.format(po_id=po_id, status=order.status, action="cancelled"))
    await conn.execute(
        update(purchase_orders).where(purchase_orders.c.po_id == po_id).values(status=CANCELLED)
    )
    await audit(
        conn, actor=actor, action="purchase_order.cancelled", target=f"purchase_order:{po_id}"
    )


async def receive_against(
    conn: AsyncConnection,
    po_id: str,
    received: dict[int, int],
    *,
    allow_over: bool,
    settings: Settings,
    user: str,
    actor: str,
) -> StockReceived:
    """Goods received against an order: one receipt event (supplier and order named in
    it) through the pipeline, the lines' received counts up, and the order partly or
    wholly received. More than is still to come is refused unless allowed."""
    order = await get_order(conn, po_id, lock=True)
    if order.status not in OPEN:
        raise PurchaseRejected(CANNOT.format(po_id=po_id, status=order.status, action="received"))
    by_no = {line.line_no: line for line in order.lines}
    taken = [(by_no[n], q) for n, q in sorted(received.items()) if n in by_no and q > 0]
    if not taken:
        raise PurchaseRejected(NOTHING_RECEIVED)
    if not allow_over:
        for line, qty in taken:
            if qty > line.outstanding:
                raise PurchaseRejected(
                    OVER.format(line=line.line_no, sku=line.sku, qty=qty, left=line.outstanding)
                )
    event = build_receipt(
        settings=settings,
        user=user,
        supplier=order.supplier.name[:200],
        note=f"purchase order {po_id}",
        lines=[(line.sku, qty) for line, qty in taken],
        purchase_order_id=po_id,
        unit_costs=[line.unit_cost for line, _ in taken],
    )
    event = await enqueue(conn, event, topic=settings.inventory_topic)
    for line, qty in taken:
        await conn.execute(
            update(purchase_order_lines)
            .where(
                purchase_order_lines.c.po_id == po_id,
                purchase_order_lines.c.line_no == line.line_no,
            )
            .values(received=purchase_order_lines.c.received + qty)
        )
    got = {line.line_no: line.received for line in order.lines}
    for line, qty in taken:
        got[line.line_no] += qty
    done = all(got[line.line_no] >= line.quantity for line in order.lines)
    await conn.execute(
        update(purchase_orders)
        .where(purchase_orders.c.po_id == po_id)
        .values(status=RECEIVED if done else PARTLY)
    )
    await audit(
        conn,
        actor=actor,
        action="purchase_order.received",
        target=f"purchase_order:{po_id}",
        details={
            "receipt_id": event.receipt_id,
            "lines": [[line.sku, qty, line.unit_cost] for line, qty in taken],
        },
    )
    return event


async def on_order(conn: AsyncConnection, *, store_id: str) -> dict[str, int]:
    """Units ordered and not received yet, per SKU (open orders of the store)."""
    rows = await conn.execute(
        select(
            purchase_order_lines.c.sku,
            func.sum(
                func.greatest(purchase_order_lines.c.quantity - purchase_order_lines.c.received, 0)
            ),
        )
        .join(purchase_orders, purchase_orders.c.po_id == purchase_order_lines.c.po_id)
        .where(purchase_orders.c.store_id == store_id, purchase_orders.c.status.in_(OPEN))
        .group_by(purchase_order_lines.c.sku)
    )
    return {sku: int(units) for sku, units in rows if units}


async def expected_arrivals(conn: AsyncConnection, *, store_id: str) -> list[dict[str, Any]]:
    """Open orders with what is still to come and when, soonest first."""
    rows = [r for r in await list_orders(conn, store_id=store_id) if r["status"] in OPEN]
    return sorted(rows, key=lambda r: (r["expected_on"] or date.max, r["po_id"]))
