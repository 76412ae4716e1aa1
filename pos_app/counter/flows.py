"""Multi-step work at the counter, each flow on the caller's transaction (its unit of work).

`checkout` is the counter's Pay button: it opens the cashier's cart, prices it once,
checks the payment, stores the sale with its event, audit row and idempotency key, and
deletes the cart. Nothing commits here: the request's unit of work commits all of it or
none (pos_app/deps.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.auth.deps import Principal
from pos_app.contract import EventTotals
from pos_app.counter import cart as carts
from pos_app.money import kyat
from pos_app.sales.schemas import PaymentIn, PaymentMethod, SaleIn, SaleLineIn
from pos_app.sales.service import (
    RecordedSale,
    SaleRejected,
    discount_limit,
    price_lines,
    record_sale,
)
from pos_app.settings import Settings

EMPTY_CART = "the cart is empty: add a product first"


@dataclass(frozen=True)
class CounterPayment:
    """What the counter's payment form says: one method (cash with the money handed
    over), or a split where `split_method` pays `split_amount` and `method` the rest."""

    method: PaymentMethod
    tendered: Decimal | None = None
    split_method: PaymentMethod | None = None
    split_amount: Decimal | None = None

    def for_total(self, total: Decimal) -> tuple[PaymentIn, list[PaymentIn] | None]:
        """The sale's `payment` or `payments`; the tenders are checked when it is priced."""
        if self.split_method is None:
            return PaymentIn(method=self.method, tendered=self.tendered), None
        amount = self.split_amount if self.split_amount is not None else Decimal(0)
        if not 0 < amount < total:
            raise SaleRejected(f"the split amount must be more than 0 and less than {kyat(total)}")
        parts = ((self.method, total - amount), (self.split_method, amount))
        return PaymentIn(), [
            PaymentIn(method=m, amount=a, tendered=self.tendered if m == "cash" else None)
            for m, a in parts
        ]


async def checkout(
    conn: AsyncConnection,
    *,
    settings: Settings,
    cashier: Principal,
    payment: Callable[[], CounterPayment],
) -> RecordedSale:
    """`payment` reads the payment form; it is asked only once the cart is known to hold
    something (an empty cart is the first thing to tell the cashier)."""
    cart = await carts.open_cart(conn, store_id=settings.store_id, cashier=cashier.name)
    if not cart.lines:
        raise SaleRejected(EMPTY_CART)
    paid_by = payment()
    lines = [SaleLineIn(**line.model_dump()) for line in cart.lines]
    limit = discount_limit(cashier.role)
    priced = await price_lines(conn, lines, store_id=settings.store_id, max_discount=limit)
    single, split = paid_by.for_total(EventTotals.of(priced).total)
    if split is None:
        sale = SaleIn(lines=lines, cashier=cashier.name, payment=single)
    else:
        sale = SaleIn(lines=lines, cashier=cashier.name, payments=split)
    # The cart id as Idempotency-Key: a double click cannot ring the cart up twice.
    recorded = await record_sale(
        conn,
        sale,
        settings=settings,
        client=cashier.actor,
        idempotency_key=f"cart-{cart.id}",
        max_discount=limit,
        lines=priced,
    )
    await carts.discard(conn, cart.id)
    return recorded
