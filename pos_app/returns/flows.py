"""Multi-step work of returns, each on the caller's transaction (its unit of work).

`exchange` takes goods back and sells others in one step, at the counter and through the
API; `audit_approval` records a refund's approval by a manager's PIN."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.auth import pins
from pos_app.auth.deps import Principal
from pos_app.auth.service import audit
from pos_app.contract import SaleCompleted, SaleReturned
from pos_app.returns.schemas import ReturnIn
from pos_app.returns.service import record_return
from pos_app.sales.schemas import PaymentIn, SaleIn, SaleLineIn
from pos_app.sales.service import discount_limit, record_sale
from pos_app.settings import Settings


async def audit_approval(
    conn: AsyncConnection,
    approval: pins.Approval | None,
    *,
    cashier: Principal,
    returned: SaleReturned,
    exchange_sale: str | None = None,
) -> None:
    """The refund's approval in the audit log: who asked, who approved, what."""
    if approval is None:
        return
    details: dict[str, object] = {
        "asked_by": cashier.name,
        "approved_by": approval.approver,
        "return_id": returned.return_id,
        "refund": str(returned.totals.refund),
        "refund_method": returned.refund_method,
        "items": returned.totals.items,
        "reason": returned.reason,
    }
    if exchange_sale is not None:
        details["exchange_sale"] = exchange_sale
    await audit(
        conn,
        actor=cashier.actor,
        action="return.approved",
        target=f"sale:{returned.sale_id}",
        details=details,
    )


@dataclass(frozen=True)
class Exchange:
    returned: SaleReturned
    sale: SaleCompleted
    # What the customer pays (> 0) or gets back (< 0): the new sale less the refund.
    difference: Decimal


async def exchange(
    conn: AsyncConnection,
    *,
    settings: Settings,
    cashier: Principal,
    sale_id: str,
    body: ReturnIn,
    new_lines: Callable[[], Awaitable[list[SaleLineIn]]],
    approval: pins.Approval | None,
) -> Exchange | None:
    """Take goods back and sell others in one step: a return and a sale, both through
    the outbox, kept or dropped together. Both are booked under the method the
    difference is settled by (the return's `refund_method`), so each method's net in
    the reports is the money that moved. `new_lines` reads what the customer takes
    instead; it runs after the return's lock (the unit of work's first statement).
    `approval`: a manager's, for a cashier (`refund_approval`, taken before this starts);
    None for whoever may refund. None: no such sale at this store."""
    method = body.refund_method
    # A savepoint: a sale that cannot be rung up takes its return back with it.
    async with conn.begin_nested():
        returned = await record_return(
            conn,
            sale_id,
            body,
            settings=settings,
            stores=[settings.store_id],  # this install takes back its own store's sales
            cashier=cashier.name,
            actor=cashier.actor,
        )
        if returned is None:
            return None
        sale = SaleIn(
            lines=await new_lines(), cashier=cashier.seller, payment=PaymentIn(method=method)
        )
        recorded = await record_sale(
            conn,
            sale,
            settings=settings,
            client=cashier.actor,
            max_discount=discount_limit(cashier.role),
        )
        difference = recorded.event.totals.total - returned.totals.refund
        await audit_approval(
            conn, approval, cashier=cashier, returned=returned, exchange_sale=recorded.event.sale_id
        )
        await audit(
            conn,
            actor=cashier.actor,
            action="sale.exchanged",
            target=f"sale:{sale_id}",
            details={
                "return_id": returned.return_id,
                "new_sale": recorded.event.sale_id,
                "refund": str(returned.totals.refund),
                "charged": str(recorded.event.totals.total),
                "difference": str(difference),
                "method": method,
            },
        )
    return Exchange(returned, recorded.event, difference)
