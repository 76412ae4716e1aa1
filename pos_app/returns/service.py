"""Finding a sale and taking goods back from it.

A sale is read as recorded (`pos_app.sales.documents`: the pipeline's read model, or
the outbox for a sale it has not stored yet, so a return works right after Pay); a sale
the pipeline applied before it kept documents is read from its stored `sales` lines.
Earlier returns are the `sale.returned` events of the sale, from the same places. The
stream job checks every return again against the stored sale (the same rule,
`contract.return_problem`), so a return can never add stock that was not sold."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.auth.service import audit
from pos_app.contract import (
    SALE_COMPLETED,
    SALE_RETURNED,
    ReturnableLine,
    ReturnLine,
    ReturnTotals,
    SaleReturned,
    WantedBack,
    return_problem,
)
from pos_app.db.tables import sales
from pos_app.db.unit_of_work import after_commit, hold_named_lock
from pos_app.events.outbox import enqueue, new_document_id
from pos_app.i18n import gettext
from pos_app.observability.metrics import REFUNDS
from pos_app.returns.schemas import ReturnIn, SaleDetail, SoldLine
from pos_app.sales.documents import sale_events
from pos_app.settings import Settings
from pos_app.tax import event_tax, tax_on


class ReturnRejected(ValueError):
    """The return is not possible; the message says why (HTTP 422)."""


async def find_sale(
    conn: AsyncConnection, sale_id: str, *, settings: Settings, stores: Collection[str]
) -> SaleDetail | None:
    """The sale if it is of one of `stores` (the caller's), else None: another store's
    sale is no sale to this caller."""
    found = await _find_sale(conn, sale_id, settings=settings)
    return found if found is not None and found.store_id in stores else None


async def _find_sale(
    conn: AsyncConnection, sale_id: str, *, settings: Settings
) -> SaleDetail | None:
    events = await sale_events(conn, sale_id, settings=settings)
    returned: dict[int, int] = {}
    return_ids = []
    for event in events:
        if event["event_type"] == SALE_RETURNED:
            return_ids.append(event["return_id"])
            for line in event["lines"]:
                returned[line["line_no"]] = returned.get(line["line_no"], 0) + line["quantity"]
    sale = next((e for e in events if e["event_type"] == SALE_COMPLETED), None)
    if sale is not None:
        return SaleDetail(
            sale_id=sale_id,
            store_id=sale["store_id"],
            occurred_at=sale["occurred_at"],
            cashier=sale.get("cashier") or "",
            currency=sale["currency"],
            total=Decimal(sale["totals"]["total"]),
            source="counter",
            lines=[_sold(line, returned) for line in sale["lines"]],
            return_ids=return_ids,
            tax_mode=(sale.get("tax") or {}).get("mode", "none"),
            tax_rate=Decimal((sale.get("tax") or {}).get("rate", "0")),
        )
    return await _stored_sale(conn, sale_id, returned, return_ids, settings)


async def _stored_sale(
    conn: AsyncConnection,
    sale_id: str,
    returned: dict[int, int],
    return_ids: list[str],
    settings: Settings,
) -> SaleDetail | None:
    rows = (
        await conn.execute(
            select(sales).where(sales.c.sale_id == sale_id).order_by(sales.c.line_no)
        )
    ).all()
    if not rows:
        return None
    first = rows[0]
    local = datetime.combine(first.sale_date, _as_time(first.sale_time))
    return SaleDetail(
        sale_id=sale_id,
        store_id=first.store_id,
        occurred_at=local.replace(tzinfo=ZoneInfo(settings.shop_timezone)),
        cashier=first.cashier,
        currency=settings.currency,
        total=sum((row.sales for row in rows), Decimal(0)),
        source="pipeline",
        lines=[
            _sold(
                {
                    "line_no": row.line_no,
                    "sku": row.sku,
                    "name": row.product,
                    "quantity": row.quantity_sold,
                    "unit_price": row.price_each,
                    "line_total": row.sales,
                },
                returned,
            )
            for row in rows
        ],
        return_ids=return_ids,
    )


def _as_time(value: object) -> time:
    # MySQL TIME arrives as a timedelta from the driver.
    if isinstance(value, time):
        return value
    seconds = int(value.total_seconds())  # type: ignore[attr-defined]
    return time(seconds // 3600, seconds % 3600 // 60, seconds % 60)


def _sold(line: dict[str, object], returned: dict[int, int]) -> SoldLine:
    line_no = int(line["line_no"])  # type: ignore[call-overload]
    quantity = int(line["quantity"])  # type: ignore[call-overload]
    back = returned.get(line_no, 0)
    return SoldLine(
        line_no=line_no,
        sku=str(line["sku"]),
        name=str(line.get("name") or line["sku"]),
        quantity=quantity,
        unit_price=Decimal(str(line["unit_price"])),
        line_total=Decimal(str(line["line_total"])),
        returned=back,
        returnable=ReturnableLine(line_no, str(line["sku"]), quantity, back).returnable,
    )


async def record_return(
    conn: AsyncConnection,
    sale_id: str,
    request: ReturnIn,
    *,
    settings: Settings,
    stores: Collection[str],
    cashier: str,
    actor: str,
) -> SaleReturned | None:
    """Store the return with its event (the outbox) in the caller's transaction; None if
    there is no such sale among `stores`. Returns of one sale are serialised by a named
    lock held until that transaction ends, so two counters cannot both take back the last
    unit. The lock must be the unit of work's first statement: its snapshot then begins
    after the lock, and the reads below see a return committed while we waited."""
    if not await hold_named_lock(conn, f"pos-return:{sale_id}", timeout_seconds=10):
        raise ReturnRejected(gettext("another return of this sale is in progress; try again"))
    sale = await find_sale(conn, sale_id, settings=settings, stores=stores)
    if sale is None:
        return None
    event = _build_return(sale, request, settings=settings, cashier=cashier)
    event = await enqueue(conn, event, topic=settings.sales_topic)
    after_commit(conn, REFUNDS.inc)
    await audit(
        conn,
        actor=actor,
        action="sale.returned",
        target=f"sale:{sale_id}",
        details={
            "return_id": event.return_id,
            "refund": str(event.totals.refund),
            "items": event.totals.items,
            "reason": request.reason,
        },
    )
    return event


def _build_return(
    sale: SaleDetail, request: ReturnIn, *, settings: Settings, cashier: str
) -> SaleReturned:
    by_line = {line.line_no: line for line in sale.lines}
    wanted: dict[int, int] = {}
    for line in request.lines:
        wanted[line.line_no] = wanted.get(line.line_no, 0) + line.quantity
    problem = return_problem(
        {
            line.line_no: ReturnableLine(line.line_no, line.sku, line.quantity, line.returned)
            for line in sale.lines
        },
        [WantedBack(line_no, quantity) for line_no, quantity in sorted(wanted.items())],
    )
    if problem is not None:
        line_no, quantity = problem.wanted.line_no, problem.wanted.quantity
        if problem.kind == "no such line":
            raise ReturnRejected(
                gettext("sale %(id)s has no line %(n)s", id=sale.sale_id, n=line_no)
            )
        sold = by_line[line_no]
        raise ReturnRejected(
            gettext(
                "line %(n)s (%(name)s): %(wanted)s to return but only %(returnable)s of "
                "%(sold)s can come back",
                n=line_no,
                name=sold.name,
                wanted=quantity,
                returnable=sold.returnable,
                sold=sold.quantity,
            )
        )
    lines = []
    for line_no, quantity in sorted(wanted.items()):
        sold = by_line[line_no]
        lines.append(
            ReturnLine(
                line_no=line_no,
                sku=sold.sku,
                name=sold.name,
                quantity=quantity,
                unit_price=sold.unit_price,
                line_total=sold.unit_price * quantity,
            )
        )
    now = datetime.now(ZoneInfo(settings.shop_timezone))
    # The sale's tax, on what comes back, by the same rule (once per return).
    tax = tax_on(sum((line.line_total for line in lines), Decimal(0)), sale.tax_mode, sale.tax_rate)
    return SaleReturned(
        event_id=str(uuid.uuid4()),
        return_id=new_document_id("R", now),
        sale_id=sale.sale_id,
        store_id=sale.store_id,
        register_id=request.register_id or settings.register_id,
        cashier=cashier,
        occurred_at=now,
        currency=sale.currency,
        reason=request.reason,
        refund_method=request.refund_method,
        lines=lines,
        totals=ReturnTotals(items=sum(line.quantity for line in lines), refund=tax.total),
        tax=event_tax(tax),
    )
