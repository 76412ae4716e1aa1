"""The counter's carts, kept in MySQL: one open cart per cashier, and carts on hold.

A cart stores what the cashier chose (SKU, quantity, discount), never prices: the sale
is priced from the catalog when it is paid, so the cart cannot go stale or be forged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field
from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.auth.service import audit
from pos_app.counter.cart_discount import CartDiscount
from pos_app.db.tables import NOW, carts
from pos_app.i18n import gettext
from pos_app.sales.schemas import MAX_LINES, MAX_QUANTITY


class CartError(ValueError):
    """The cashier asked for something the cart cannot do; the message says why."""


class CartLine(BaseModel):
    sku: str
    quantity: int = Field(gt=0, le=MAX_QUANTITY)
    discount_percent: Decimal = Decimal(0)
    discount_reason: str | None = None


@dataclass
class Cart:
    id: int
    lines: list[CartLine] = field(default_factory=list)
    updated_at: datetime | None = None
    discount: CartDiscount | None = None  # on the whole cart

    def line(self, sku: str) -> CartLine | None:
        return next((line for line in self.lines if line.sku == sku), None)

    def add(self, sku: str, quantity: int = 1) -> None:
        line = self.line(sku)
        if line is None:
            if len(self.lines) >= MAX_LINES:
                raise CartError(gettext("a sale holds at most %(n)s lines", n=MAX_LINES))
            self.lines.append(CartLine(sku=sku, quantity=check_quantity(quantity)))
        else:
            line.quantity = check_quantity(line.quantity + quantity)

    def set_quantity(self, sku: str, quantity: int) -> None:
        self._existing(sku).quantity = check_quantity(quantity)

    def remove(self, sku: str) -> None:
        self._existing(sku)
        self.lines = [line for line in self.lines if line.sku != sku]
        if not self.lines:
            self.discount = None

    def _existing(self, sku: str) -> CartLine:
        line = self.line(sku)
        if line is None:
            raise CartError(gettext("%(sku)s is not in the cart", sku=sku))
        return line


def check_quantity(quantity: int) -> int:
    if not 1 <= quantity <= MAX_QUANTITY:
        most, got = f"{MAX_QUANTITY:,}", f"{quantity:,}"
        raise CartError(
            gettext(
                "quantity must be from 1 to %(most)s (got %(got)s); use Remove to take a line out",
                most=most,
                got=got,
            )
        )
    return quantity


def _dump(lines: list[CartLine]) -> str:
    return json.dumps([line.model_dump(mode="json") for line in lines])


def _load(text: str) -> list[CartLine]:
    return [CartLine.model_validate(item) for item in json.loads(text)]


async def open_cart(conn: AsyncConnection, *, store_id: str, cashier: str) -> Cart:
    """The cashier's open cart, made if there is none."""
    row = (
        await conn.execute(
            select(carts.c.id, carts.c.lines, carts.c.updated_at, carts.c.discount)
            .where(carts.c.store_id == store_id, carts.c.cashier == cashier)
            .where(carts.c.status == "open")
            .order_by(carts.c.id.desc())
            .limit(1)
        )
    ).one_or_none()
    if row is not None:
        discount = CartDiscount.model_validate_json(row.discount) if row.discount else None
        return Cart(id=row.id, lines=_load(row.lines), updated_at=row.updated_at, discount=discount)
    result = await conn.execute(
        insert(carts).values(store_id=store_id, cashier=cashier, status="open", lines="[]")
    )
    return Cart(id=int(result.inserted_primary_key[0]))  # type: ignore[index]


async def save(conn: AsyncConnection, cart: Cart) -> None:
    await conn.execute(
        update(carts)
        .where(carts.c.id == cart.id)
        .values(
            lines=_dump(cart.lines),
            discount=cart.discount.model_dump_json() if cart.discount else None,
            updated_at=NOW,
        )
    )


async def discard(conn: AsyncConnection, cart_id: int) -> None:
    """Drop a paid cart (the sale itself is in the audit log)."""
    await conn.execute(delete(carts).where(carts.c.id == cart_id))


def _contents(cart: Cart) -> dict[str, object]:
    return {
        "items": sum(x.quantity for x in cart.lines),
        "lines": [[x.sku, x.quantity] for x in cart.lines],
    }


async def void(conn: AsyncConnection, cart: Cart, *, actor: str) -> None:
    """Throw the cart away unpaid. The audit log keeps what was in it: a manager checking
    the till against the sales can see every void, and by whom."""
    if not cart.lines:
        raise CartError(gettext("the cart is empty"))
    await conn.execute(delete(carts).where(carts.c.id == cart.id))
    await audit(
        conn, actor=actor, action="cart.voided", target=f"cart:{cart.id}", details=_contents(cart)
    )


@dataclass(frozen=True)
class HeldCart:
    id: int
    items: int
    lines: int
    held_at: datetime


async def hold(conn: AsyncConnection, cart: Cart, *, actor: str) -> None:
    if not cart.lines:
        raise CartError(gettext("the cart is empty: there is nothing to hold"))
    await conn.execute(
        update(carts).where(carts.c.id == cart.id).values(status="held", updated_at=NOW)
    )
    await audit(
        conn, actor=actor, action="cart.held", target=f"cart:{cart.id}", details=_contents(cart)
    )


async def held_carts(conn: AsyncConnection, *, store_id: str) -> list[HeldCart]:
    """Carts on hold at this store, oldest first (any cashier may resume one)."""
    rows = await conn.execute(
        select(carts.c.id, carts.c.lines, carts.c.updated_at)
        .where(carts.c.store_id == store_id, carts.c.status == "held")
        .order_by(carts.c.id)
    )
    held = []
    for row in rows:
        lines = _load(row.lines)
        held.append(HeldCart(row.id, sum(x.quantity for x in lines), len(lines), row.updated_at))
    return held


async def resume(
    conn: AsyncConnection, *, cart_id: int, store_id: str, cashier: str, actor: str
) -> None:
    """Make a held cart the cashier's open cart; a non-empty open cart goes on hold."""
    found = (
        await conn.execute(
            select(carts.c.id).where(
                carts.c.id == cart_id, carts.c.store_id == store_id, carts.c.status == "held"
            )
        )
    ).one_or_none()
    if found is None:
        raise CartError(gettext("no cart %(id)s on hold", id=cart_id))
    current = await open_cart(conn, store_id=store_id, cashier=cashier)
    if current.lines:
        await conn.execute(update(carts).where(carts.c.id == current.id).values(status="held"))
    else:
        await conn.execute(delete(carts).where(carts.c.id == current.id))
    await conn.execute(
        update(carts)
        .where(carts.c.id == cart_id)
        .values(status="open", cashier=cashier, updated_at=NOW)
    )
    await audit(conn, actor=actor, action="cart.resumed", target=f"cart:{cart_id}")
