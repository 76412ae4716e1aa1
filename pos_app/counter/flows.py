"""Multi-step work at the counter, each flow on the caller's transaction (its unit of work).

`checkout` is the counter's Pay button: it opens the cashier's cart, prices it once,
checks the payment, stores the sale with its event, audit row and idempotency key, and
deletes the cart. Nothing commits here: the request's unit of work commits all of it or
none (pos_app/deps.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.auth import pins
from pos_app.auth.deps import Principal
from pos_app.auth.roles import Role, role_allows
from pos_app.auth.service import audit
from pos_app.contract import EventCartDiscount, EventLine, EventTotals, SaleReturned
from pos_app.counter import cart as carts
from pos_app.counter import cart_discount
from pos_app.i18n import N_, gettext
from pos_app.money import kyat
from pos_app.returns.flows import audit_approval
from pos_app.returns.schemas import ReturnIn
from pos_app.returns.service import ReturnRejected, record_return
from pos_app.sales.schemas import PAYMENT_METHODS, PaymentIn, PaymentMethod, SaleIn, SaleLineIn
from pos_app.sales.service import (
    RecordedSale,
    SaleRejected,
    TenderShort,
    discount_limit,
    price_lines,
    record_sale,
)
from pos_app.settings import Settings
from pos_app.shop_tax import with_shop_tax
from pos_app.tax import tax_on

EMPTY_CART = N_("the cart is empty: add a product first")


def amount_in_kyat(text: str, what: str) -> Decimal:
    """An amount typed at the counter: "50000", "50,000" or "50,000 Ks"."""
    problem = gettext(
        "%(what)s must be an amount in kyat, e.g. 50000 (got %(text)s)", what=what, text=repr(text)
    )
    try:
        if len(text) > 20:
            raise InvalidOperation
        value = Decimal(text.replace(",", "").removesuffix("Ks").strip())
    except InvalidOperation:
        raise SaleRejected(problem) from None
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        raise SaleRejected(problem)
    return value


@dataclass(frozen=True)
class CounterPayment:
    """The counter's payment form: one method (cash with the money handed over, as
    typed), or a split where `split_method` pays `split_amount` and `method` the rest."""

    method: PaymentMethod
    tendered: str = ""
    split_method: PaymentMethod | None = None
    split_amount: str = ""
    # The wallet's or card's transaction id, typed or scanned: it goes with the first
    # method that is not cash.
    reference: str = ""

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> CounterPayment:
        method, second = form.get("method", "cash"), form.get("split_method", "")
        if method not in PAYMENT_METHODS or (second and second not in PAYMENT_METHODS):
            raise SaleRejected(gettext("choose a payment method"))
        return cls(
            method=method,
            tendered=form.get("tendered", ""),
            split_method=second or None,
            split_amount=form.get("split_amount", ""),
            reference=form.get("reference", "")[:64],
        )

    def for_total(self, total: Decimal) -> tuple[PaymentIn, list[PaymentIn] | None]:
        """The sale's `payment` or `payments`; the tenders are checked when it is priced."""
        split = None
        if self.split_method is not None:
            amount = amount_in_kyat(self.split_amount, gettext("the split amount"))
            if not 0 < amount < total:
                raise SaleRejected(
                    gettext(
                        "the split amount must be more than 0 and less than %(total)s",
                        total=kyat(total),
                    )
                )
            split = ((self.method, total - amount), (self.split_method, amount))
        tendered = None
        if "cash" in (self.method, self.split_method):
            if not self.tendered:
                raise SaleRejected(gettext("enter the cash tendered"))
            tendered = amount_in_kyat(self.tendered, gettext("cash tendered"))
        reference = self.reference.strip() or None
        referenced = self.method if self.method != "cash" else self.split_method
        if reference and referenced in (None, "cash"):
            raise SaleRejected(gettext("a cash payment has no transaction reference"))
        if split is None:
            return PaymentIn(method=self.method, tendered=tendered, reference=reference), None
        return PaymentIn(), [
            PaymentIn(
                method=m,
                amount=a,
                tendered=tendered if m == "cash" else None,
                reference=reference if m == referenced else None,
            )
            for m, a in split
        ]


@dataclass(frozen=True)
class PricedCart:
    lines: list[EventLine]  # the whole-cart discount spread over them
    cart_discount: EventCartDiscount | None
    cart_lines: list[EventLine]  # one per cart line, before the whole-cart discount


async def price_cart(
    conn: AsyncConnection,
    cart: carts.Cart,
    *,
    settings: Settings,
    limit: Decimal,
    check_limits: bool = True,
) -> PricedCart:
    """The cart priced as the sale will be: line discounts within `limit`, then the
    whole-cart discount within `limit` or the limit of the manager who approved it.
    `check_limits` False: a preview (limits are checked on entry and at payment)."""
    wanted = [SaleLineIn(**line.model_dump()) for line in cart.lines]
    line_limit = limit if check_limits else Decimal(100)
    priced = await price_lines(conn, wanted, store_id=settings.store_id, max_discount=line_limit)
    if cart.discount is None:
        return PricedCart(priced, None, priced)
    base = EventTotals.of(priced).total
    off = cart_discount.amount_off(cart.discount, base)
    if check_limits:
        cart_discount.check_limit(off, base, cart.discount.limit_for(base, limit))
    lines, record = cart_discount.apply(priced, cart.discount, off)
    return PricedCart(lines, record, priced)


async def discount_cart(
    conn: AsyncConnection,
    *,
    settings: Settings,
    cashier: Principal,
    form: Mapping[str, str],
    approve: pins.Approver,
) -> str:
    """Set (or, with no kind, take off) the whole-cart discount. Over the cashier's limit
    it needs a manager's name and PIN in the form: the approval is audited with who
    asked, who approved, what and how much. Returns the message for the cashier."""
    cart = await carts.open_cart(conn, store_id=settings.store_id, cashier=cashier.name)
    if not cart.lines:
        raise SaleRejected(gettext(EMPTY_CART))
    if not form.get("kind"):
        cart.discount = None
        await carts.save(conn, cart)
        return gettext("Cart discount removed")
    discount = cart_discount.parse(form["kind"], form.get("value", ""), form.get("reason", ""))
    own_limit = discount_limit(cashier.role)
    wanted = [SaleLineIn(**line.model_dump()) for line in cart.lines]
    priced = await price_lines(conn, wanted, store_id=settings.store_id, max_discount=own_limit)
    base = EventTotals.of(priced).total
    off = cart_discount.amount_off(discount, base)
    percent = cart_discount.percent_of(off, base)
    if percent > own_limit:
        approver, pin = form.get("approver", "").strip(), form.get("pin", "").strip()
        if not approver or not pin:
            raise cart_discount.OverLimit(percent, own_limit)
        approval = await approve(approver, pin)
        approver_limit = discount_limit(approval.role)
        cart_discount.check_limit(off, base, approver_limit)
        discount = discount.model_copy(
            update={
                "approved_by": approval.approver,
                "approved_base": base,
                "approved_limit": approver_limit,
            }
        )
        await audit(
            conn,
            actor=cashier.actor,
            action="discount.approved",
            target=f"cart:{cart.id}",
            details={
                "asked_by": cashier.name,
                "approved_by": approval.approver,
                "kind": discount.kind,
                "value": str(discount.value),
                "amount": str(off),
                "base": str(base),
                "percent": str(percent.quantize(Decimal("0.01"))),
                "limit": str(own_limit),
                "reason": discount.reason,
            },
        )
    cart.discount = discount
    await carts.save(conn, cart)
    return gettext("Cart discount %(amount)s", amount=kyat(off))


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
        raise SaleRejected(gettext(EMPTY_CART))
    paid_by = payment()
    settings = await with_shop_tax(conn, settings)
    lines = [SaleLineIn(**line.model_dump()) for line in cart.lines]
    limit = discount_limit(cashier.role)
    priced = await price_cart(conn, cart, settings=settings, limit=limit)
    # What the customer pays: the lines, and commercial tax when it is added on top.
    due = tax_on(EventTotals.of(priced.lines).total, settings.tax_mode, settings.tax_rate).total
    single, split = paid_by.for_total(due)
    if split is None:
        sale = SaleIn(lines=lines, cashier=cashier.name, payment=single)
    else:
        sale = SaleIn(lines=lines, cashier=cashier.name, payments=split)
    try:
        # The cart id as Idempotency-Key: a double click cannot ring the cart up twice.
        recorded = await record_sale(
            conn,
            sale,
            settings=settings,
            client=cashier.actor,
            idempotency_key=f"cart-{cart.id}",
            max_discount=limit,
            lines=priced.lines,
            cart_discount=priced.cart_discount,
        )
    except TenderShort as short:  # said as the counter says it, beside the amount due
        raise SaleRejected(
            gettext(
                "cash tendered %(tendered)s is less than the %(due)s due",
                tendered=kyat(short.tendered),
                due=kyat(short.due),
            )
        ) from None
    await carts.discard(conn, cart.id)
    return recorded


# --- Refunds: a manager's task; a cashier takes one with a manager's PIN --------------

REFUND_NEEDS_APPROVAL = N_(
    "a refund needs a manager's approval: their username and PIN (or a manager takes it)"
)


async def refund_approval(
    cashier: Principal, form: Mapping[str, str], approve: pins.Approver
) -> pins.Approval | None:
    """None when the person may refund on their own (a manager or admin); else the
    manager whose name and PIN are in the form approves it (PinRefused if not)."""
    if cashier.role is not None and role_allows(cashier.role, Role.manager):
        return None
    approver, pin = form.get("approver", "").strip(), form.get("pin", "").strip()
    if not approver or not pin:
        raise ReturnRejected(gettext(REFUND_NEEDS_APPROVAL))
    return await approve(approver, pin)


async def counter_return(
    conn: AsyncConnection,
    *,
    settings: Settings,
    cashier: Principal,
    sale_id: str,
    body: ReturnIn,
    form: Mapping[str, str],
    approve: pins.Approver,
) -> SaleReturned | None:
    """A return at the counter; a cashier's needs a manager's PIN (checked before the
    return's lock, which must be the unit of work's first statement). None: no sale."""
    approval = await refund_approval(cashier, form, approve)
    returned = await record_return(
        conn,
        sale_id,
        body,
        settings=settings,
        stores=[settings.store_id],  # the counter takes back its own store's sales
        cashier=cashier.name,
        actor=cashier.actor,
    )
    if returned is not None:
        await audit_approval(conn, approval, cashier=cashier, returned=returned)
    return returned
