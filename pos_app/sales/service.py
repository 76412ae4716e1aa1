"""Ringing up a sale: price it from the catalog, build the event, store both."""

from __future__ import annotations

import contextlib
import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.auth.roles import Role
from pos_app.auth.service import audit
from pos_app.catalog.service import products_by_sku
from pos_app.contract import (
    EventCartDiscount,
    EventLine,
    EventPayment,
    EventTotals,
    SaleCompleted,
)
from pos_app.db.tables import idempotency_keys
from pos_app.db.unit_of_work import after_commit
from pos_app.events.outbox import enqueue, new_document_id
from pos_app.i18n import gettext
from pos_app.money import kyat
from pos_app.observability.metrics import SALES
from pos_app.sales.schemas import PaymentIn, SaleIn, SaleLineIn
from pos_app.settings import Settings
from pos_app.shop_tax import with_shop_tax
from pos_app.tax import event_tax, tax_on

CENT = Decimal("0.01")
# The largest line discount, in percent, each role may give. API keys give none: a
# discount needs a person who answers for it.
DISCOUNT_LIMITS: dict[Role, Decimal] = {
    Role.cashier: Decimal(10),
    Role.manager: Decimal(50),
    Role.admin: Decimal(100),
}


def discount_limit(role: Role | str | None) -> Decimal:
    return DISCOUNT_LIMITS[Role(role)] if role is not None else Decimal(0)


class SaleRejected(ValueError):
    """The request cannot become a sale; the message says why (sent as HTTP 422)."""


def check_discount(
    percent: Decimal, reason: str | None, *, limit: Decimal, who: str = ""
) -> str | None:
    """The one discount rule, at the cart and at payment: a percentage in cents from 0 to
    100, within the person's `limit`, with a reason. Returns the reason (None: no
    discount); `who` names the person's role in the message."""
    if not 0 <= percent <= 100 or percent != percent.quantize(CENT):
        raise SaleRejected(gettext("discount must be a percentage from 0 to 100"))
    if percent == 0:
        return None
    if percent > limit:
        shown, most = f"{percent:g}", f"{limit:g}"
        raise SaleRejected(
            gettext(
                "a discount of %(percent)s %% is over your limit of %(limit)s %% "
                "(%(role)s); ask a manager",
                percent=shown,
                limit=most,
                role=who,
            )
            if who
            else gettext(
                "a discount of %(percent)s %% is over your limit of %(limit)s %%; ask a manager",
                percent=shown,
                limit=most,
            )
        )
    checked = (reason or "").strip()
    if not checked:
        raise SaleRejected(gettext("a discount needs a reason"))
    return checked


async def price_lines(
    conn: AsyncConnection,
    lines: Sequence[SaleLineIn],
    *,
    store_id: str,
    max_discount: Decimal = Decimal(0),
) -> list[EventLine]:
    """Price every line from the store's catalog (never from the client) and apply line
    discounts within `max_discount` percent."""
    catalog = await products_by_sku(conn, (line.sku for line in lines), store_id=store_id)
    unknown = sorted({line.sku for line in lines} - catalog.keys())
    if unknown:
        raise SaleRejected(gettext("unknown SKU: %(skus)s", skus=", ".join(unknown)))
    inactive = sorted({line.sku for line in lines if not catalog[line.sku].active})
    if inactive:
        raise SaleRejected(gettext("no longer sold: %(skus)s", skus=", ".join(inactive)))

    priced = []
    for number, line in enumerate(lines, start=1):
        list_price = catalog[line.sku].unit_price
        try:
            reason = check_discount(line.discount_percent, line.discount_reason, limit=max_discount)
        except SaleRejected as refused:
            raise SaleRejected(f"line {number} ({line.sku}): {refused}") from None
        if reason is None:
            priced.append(
                EventLine(
                    line_no=number,
                    sku=line.sku,
                    name=catalog[line.sku].name,
                    quantity=line.quantity,
                    unit_price=list_price,
                    line_total=list_price * line.quantity,
                    unit_cost=catalog[line.sku].cost_price,
                )
            )
            continue
        percent = line.discount_percent
        # The net price goes in unit_price, so the stream job charges it unchanged.
        net = (list_price * (100 - percent) / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        priced.append(
            EventLine(
                line_no=number,
                sku=line.sku,
                name=catalog[line.sku].name,
                quantity=line.quantity,
                unit_price=net,
                line_total=net * line.quantity,
                list_price=list_price,
                discount_percent=percent,
                discount=(list_price - net) * line.quantity,
                discount_reason=reason,
                unit_cost=catalog[line.sku].cost_price,
            )
        )
    return priced


def sale_event(
    sale: SaleIn,
    lines: list[EventLine],
    *,
    settings: Settings,
    now: datetime | None = None,
    cart_discount: EventCartDiscount | None = None,
) -> SaleCompleted:
    """The sale's event from its priced lines, the payment checked against the total.
    `cart_discount`: the whole-cart discount already spread over `lines`."""
    totals = EventTotals.of(lines)
    tax = tax_on(totals.total, settings.tax_mode, settings.tax_rate)
    if tax.applies:
        totals = totals.model_copy(update={"tax": tax.tax, "total": tax.total})
    payment, payments = _payments(sale, totals.total)
    now = now or datetime.now(ZoneInfo(settings.shop_timezone))
    return SaleCompleted(
        event_id=str(uuid.uuid4()),
        sale_id=new_document_id("S", now),
        store_id=settings.store_id,
        register_id=sale.register_id or settings.register_id,
        cashier=sale.cashier,
        occurred_at=now,
        currency=settings.currency,
        lines=lines,
        totals=totals,
        payment=payment,
        payments=payments,
        tax=event_tax(tax),
        cart_discount=cart_discount,
    )


async def price_sale(
    conn: AsyncConnection,
    sale: SaleIn,
    *,
    settings: Settings,
    now: datetime | None = None,
    max_discount: Decimal = Decimal(0),
) -> SaleCompleted:
    """Price every line from the catalog (never from the client), apply line discounts
    within `max_discount` percent, and check the payment against the total."""
    lines = await price_lines(
        conn, sale.lines, store_id=settings.store_id, max_discount=max_discount
    )
    return sale_event(sale, lines, settings=settings, now=now)


class TenderShort(SaleRejected):
    """The cash handed over does not cover what is due in cash."""

    def __init__(self, tendered: Decimal, due: Decimal, what: str) -> None:
        super().__init__(f"cash tendered {kyat(tendered)} is less than {what} {kyat(due)}")
        self.tendered, self.due = tendered, due


def _tender(part: PaymentIn, amount: Decimal, due: str = "the total") -> EventPayment:
    """One tender; cash may be given with the money handed over, which must cover it."""
    tendered = part.tendered if part.method == "cash" else None
    if tendered is not None and tendered < amount:
        raise TenderShort(tendered, amount, due)
    if part.method == "cash" and part.reference is not None:
        raise SaleRejected("a cash payment has no transaction reference")
    change = (tendered - amount) if tendered is not None else None
    reference = part.reference.strip() if part.reference else None
    return EventPayment(
        method=part.method,
        amount=amount,
        tendered=tendered,
        change=change,
        reference=reference or None,
    )


def _payments(sale: SaleIn, total: Decimal) -> tuple[EventPayment, list[EventPayment] | None]:
    if sale.payments is None:
        if sale.payment.amount is not None:
            raise SaleRejected("payment.amount is only for split payments (`payments`)")
        return _tender(sale.payment, total), None
    if "payment" in sale.model_fields_set:
        raise SaleRejected("give either `payment` or `payments` (a split), not both")
    first, second = sale.payments
    if first.method == second.method:
        raise SaleRejected("a split payment needs two different methods")
    if first.amount is None or second.amount is None:
        raise SaleRejected("each part of a split payment needs its amount")
    if first.amount + second.amount != total:
        raise SaleRejected(
            f"the split payments add up to {kyat(first.amount + second.amount)}, "
            f"but the total is {kyat(total)}"
        )
    due = "the part due in cash"
    parts = [_tender(first, first.amount, due), _tender(second, second.amount, due)]
    cash = next((p for p in parts if p.tendered is not None), None)
    summary = EventPayment(
        method="split",
        amount=total,
        tendered=cash.tendered if cash else None,
        change=cash.change if cash else None,
    )
    return summary, parts


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
    max_discount: Decimal = Decimal(0),
    lines: list[EventLine] | None = None,
    cart_discount: EventCartDiscount | None = None,
) -> RecordedSale:
    """Price the sale and store it with its event (the outbox), its audit row and its
    Idempotency-Key, in the caller's transaction: once that commits, the sale is recorded,
    and the relay publishes it. It does not wait for Kafka. With an Idempotency-Key, a
    retry of the same request returns the first sale instead of ringing up a second one.
    `lines`: this sale's lines as `price_lines` priced them, for a caller that needed the
    total first (the counter's split payment): the sale is then not priced twice."""
    settings = await with_shop_tax(conn, settings)  # an admin's change applies at once
    fingerprint = request_fingerprint(sale) if idempotency_key is not None else ""
    if idempotency_key is not None:
        earlier = await _earlier_sale(conn, client, idempotency_key, fingerprint)
        if earlier is not None:
            return RecordedSale(earlier, replayed=True)
    if lines is None:
        lines = await price_lines(
            conn, sale.lines, store_id=settings.store_id, max_discount=max_discount
        )
    event = sale_event(sale, lines, settings=settings, cart_discount=cart_discount)
    details: dict[str, object] = {
        "total": str(event.totals.total),
        "items": event.totals.items,
        "discount": str(event.totals.discount),
    }
    if cart_discount is not None:
        details["cart_discount"] = cart_discount.model_dump(mode="json")
    # With a key, a savepoint: if the same key raced us and won, none of this sale is kept.
    # Without one there is no race to lose, and two round trips fewer.
    guard = conn.begin_nested() if idempotency_key is not None else contextlib.nullcontext()
    try:
        async with guard:
            event = await enqueue(conn, event, topic=settings.sales_topic)
            await audit(
                conn,
                actor=client,
                action="sale.completed",
                target=f"sale:{event.sale_id}",
                details=details,
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
    except IntegrityError:
        # Answer as a retry would have been answered; the winner's row is committed by
        # now (the insert waited for it), so read it past this transaction's snapshot.
        if idempotency_key is None:
            raise
        earlier = await _earlier_sale(conn, client, idempotency_key, fingerprint, latest=True)
        if earlier is None:
            raise
        return RecordedSale(earlier, replayed=True)
    after_commit(conn, SALES.inc)
    return RecordedSale(event, replayed=False)


async def _earlier_sale(
    conn: AsyncConnection, client: str, key: str, fingerprint: str, *, latest: bool = False
) -> SaleCompleted | None:
    query = select(idempotency_keys.c.request_hash, idempotency_keys.c.response).where(
        idempotency_keys.c.client == client,
        idempotency_keys.c.idempotency_key == key,
    )
    if latest:  # a locking read sees the newest committed row, not the snapshot
        query = query.with_for_update(read=True)
    row = (await conn.execute(query)).one_or_none()
    if row is None:
        return None
    if row.request_hash != fingerprint:
        raise IdempotencyConflict(
            "this Idempotency-Key was already used with a different request body"
        )
    return SaleCompleted.model_validate_json(row.response)
