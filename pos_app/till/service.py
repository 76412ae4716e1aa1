"""Shifts: open with a float, pay cash in and out, count the drawer at close; the X and
Z reports. Services take the request's connection and never commit.

A shift's sales, returns, discounts, tax and payments are read from the tables the
stream job keeps (`sale_totals`, `sale_payments`) for the shift's register between its
opening and its close, so a Z report agrees with every other report to the kyat. What
the pipeline has not stored yet is counted and shown (`pending`), never guessed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import case, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.auth.service import audit, audit_values
from pos_app.auth.tables import audit_log
from pos_app.db.engine import make_sync_engine
from pos_app.db.tables import outbox, processed_events, sale_payments, sale_totals
from pos_app.settings import Settings
from pos_app.till.tables import cash_movements, shifts

# The kyat notes a drawer is counted in, largest first.
NOTES: tuple[int, ...] = (10000, 5000, 1000, 500, 200, 100, 50)
MAX_NOTES = 100_000  # of one kind: a typo guard, far above any drawer
MAX_AMOUNT = Decimal(100_000_000)


class ShiftError(ValueError):
    """The shift action is not possible; the message says why (HTTP 422)."""


@dataclass(frozen=True)
class Shift:
    shift_id: int
    store_id: str
    register_id: str
    cashier: str
    opened_at: datetime  # UTC, naive as MySQL keeps it
    opening_float: Decimal
    closed_at: datetime | None
    closed_by: str | None
    counted_notes: dict[int, int] | None
    counted_cash: Decimal | None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _shift(row: Any) -> Shift:
    notes = json.loads(row.counted_notes) if row.counted_notes else None
    return Shift(
        shift_id=row.shift_id,
        store_id=row.store_id,
        register_id=row.register_id,
        cashier=row.cashier,
        opened_at=row.opened_at,
        opening_float=row.opening_float,
        closed_at=row.closed_at,
        closed_by=row.closed_by,
        counted_notes={int(k): int(v) for k, v in notes.items()} if notes else None,
        counted_cash=row.counted_cash,
    )


def whole_kyat(amount: Decimal, what: str) -> Decimal:
    if not amount.is_finite() or amount < 0 or amount != amount.to_integral_value():
        raise ShiftError(f"{what} must be a whole number of kyat, 0 or more")
    if amount > MAX_AMOUNT:
        raise ShiftError(f"{what} is more than {MAX_AMOUNT:,} Ks; check the amount")
    return amount


async def current_shift(conn: AsyncConnection, *, store_id: str, register_id: str) -> Shift | None:
    row = (
        await conn.execute(
            select(shifts).where(
                shifts.c.store_id == store_id,
                shifts.c.register_id == register_id,
                shifts.c.closed_at.is_(None),
            )
        )
    ).one_or_none()
    return _shift(row) if row is not None else None


async def get_shift(conn: AsyncConnection, shift_id: int) -> Shift | None:
    row = (await conn.execute(select(shifts).where(shifts.c.shift_id == shift_id))).one_or_none()
    return _shift(row) if row is not None else None


async def list_shifts(conn: AsyncConnection, *, store_id: str, limit: int = 100) -> list[Shift]:
    rows = await conn.execute(
        select(shifts)
        .where(shifts.c.store_id == store_id)
        .order_by(shifts.c.opened_at.desc(), shifts.c.shift_id.desc())
        .limit(limit)
    )
    return [_shift(row) for row in rows]


async def open_shift(
    conn: AsyncConnection,
    *,
    store_id: str,
    register_id: str,
    cashier: str,
    opening_float: Decimal,
    actor: str,
) -> Shift:
    whole_kyat(opening_float, "the opening float")
    # A named lock: two counters opening the same register at once get one shift.
    lock = f"pos-shift:{store_id}/{register_id}"
    if not await conn.scalar(select(func.get_lock(lock, 5))):
        raise ShiftError("another shift is being opened at this register; try again")
    try:
        if await current_shift(conn, store_id=store_id, register_id=register_id) is not None:
            raise ShiftError(f"a shift is already open at {register_id}; close it first")
        result = await conn.execute(
            insert(shifts).values(
                store_id=store_id,
                register_id=register_id,
                cashier=cashier,
                opened_at=_utc_now(),
                opening_float=opening_float,
            )
        )
    finally:
        await conn.execute(select(func.release_lock(lock)))
    shift_id = int(result.inserted_primary_key[0])  # type: ignore[index]
    await audit(
        conn,
        actor=actor,
        action="shift.opened",
        target=f"shift:{shift_id}",
        details={"register": register_id, "float": str(opening_float)},
    )
    shift = await get_shift(conn, shift_id)
    assert shift is not None
    return shift


async def record_cash(
    conn: AsyncConnection,
    shift: Shift,
    *,
    kind: Literal["in", "out"],
    amount: Decimal,
    reason: str,
    actor: str,
    recorded_by: str,
) -> None:
    """Cash paid into or out of the drawer (petty cash, a float top-up), with a reason."""
    if not shift.is_open:
        raise ShiftError(f"shift {shift.shift_id} is closed")
    whole_kyat(amount, "the amount")
    if amount == 0:
        raise ShiftError("the amount must be more than 0")
    reason = reason.strip()[:200]
    if not reason:
        raise ShiftError("cash paid in or out needs a reason")
    await conn.execute(
        insert(cash_movements).values(
            shift_id=shift.shift_id,
            kind=kind,
            amount=amount,
            reason=reason,
            recorded_by=recorded_by,
            recorded_at=_utc_now(),
        )
    )
    await audit(
        conn,
        actor=actor,
        action=f"shift.cash_{kind}",
        target=f"shift:{shift.shift_id}",
        details={"amount": str(amount), "reason": reason},
    )


def count_notes(notes: dict[int, int]) -> Decimal:
    """The cash in a drawer counted as {note value: how many}."""
    unknown = sorted(set(notes) - set(NOTES))
    if unknown:
        raise ShiftError(f"not a kyat note: {', '.join(map(str, unknown))}")
    for value, count in notes.items():
        if not 0 <= count <= MAX_NOTES:
            raise ShiftError(f"the count of {value:,} Ks notes must be from 0 to {MAX_NOTES:,}")
    return Decimal(sum(value * count for value, count in notes.items()))


async def close_shift(
    conn: AsyncConnection, shift: Shift, *, notes: dict[int, int], closed_by: str, actor: str
) -> Shift:
    if not shift.is_open:
        raise ShiftError(f"shift {shift.shift_id} is already closed")
    counted = count_notes(notes)
    closed = await conn.execute(
        update(shifts)
        .where(shifts.c.shift_id == shift.shift_id, shifts.c.closed_at.is_(None))
        .values(
            closed_at=_utc_now(),
            closed_by=closed_by,
            counted_notes=json.dumps({str(k): v for k, v in sorted(notes.items())}),
            counted_cash=counted,
        )
    )
    if closed.rowcount != 1:
        raise ShiftError(f"shift {shift.shift_id} is already closed")
    await audit(
        conn,
        actor=actor,
        action="shift.closed",
        target=f"shift:{shift.shift_id}",
        details={"counted": str(counted)},
    )
    done = await get_shift(conn, shift.shift_id)
    assert done is not None
    return done


# --- X and Z reports ---------------------------------------------------------------------


@dataclass(frozen=True)
class MethodTotal:
    method: str
    paid: Decimal
    refunded: Decimal  # positive
    net: Decimal


@dataclass(frozen=True)
class CashMove:
    kind: str
    amount: Decimal
    reason: str
    recorded_by: str
    recorded_at: datetime


@dataclass(frozen=True)
class ShiftReport:
    shift: Shift
    kind: Literal["X", "Z"]  # X: any time while open; Z: at and after close
    until: datetime  # UTC: the close, or now for an X report
    receipts: int
    items: int  # sold less returned
    sales: Decimal  # what the sales' customers paid (tax added on top included)
    returns: Decimal  # what was refunded (positive)
    discounts: Decimal
    tax: Decimal  # net of the tax refunded
    first_receipt: str | None
    last_receipt: str | None
    by_method: list[MethodTotal]
    cash_moves: list[CashMove]
    paid_in: Decimal
    paid_out: Decimal
    expected_cash: Decimal  # float + cash taken - cash refunded + paid in - paid out
    counted_cash: Decimal | None
    over_short: Decimal | None  # counted - expected: + over, - short
    pending: int  # sales and returns recorded that the pipeline has not stored yet

    @property
    def net_sales(self) -> Decimal:
        return self.sales - self.returns


def _when(condition: Any, value: Any) -> Any:
    # MariaDB has no aggregate FILTER clause: SUM(CASE WHEN ... THEN x ELSE 0 END).
    return case((condition, value), else_=0)


async def shift_report(conn: AsyncConnection, shift: Shift, *, sales_topic: str) -> ShiftReport:
    until = shift.closed_at or _utc_now()
    t, p = sale_totals, sale_payments
    in_shift = [
        t.c.store_id == shift.store_id,
        t.c.register_id == shift.register_id,
        t.c.occurred_at >= shift.opened_at,
        t.c.occurred_at <= until,
    ]
    sums = (
        await conn.execute(
            select(
                func.coalesce(func.sum(_when(t.c.kind == "sale", 1)), 0).label("receipts"),
                func.coalesce(func.sum(t.c["items"]), 0).label("items"),
                func.coalesce(func.sum(_when(t.c.kind == "sale", t.c.total)), 0).label("sales"),
                func.coalesce(-func.sum(_when(t.c.kind == "refund", t.c.total)), 0).label(
                    "returns"
                ),
                func.coalesce(func.sum(t.c.discount), 0).label("discounts"),
                func.coalesce(func.sum(t.c.tax), 0).label("tax"),
            ).where(*in_shift)
        )
    ).one()
    first_last = (
        await conn.execute(
            select(t.c.document_id)
            .where(*in_shift, t.c.kind == "sale")
            .order_by(t.c.occurred_at, t.c.document_id)
        )
    ).scalars()
    receipts_in_order = list(first_last)
    methods = [
        MethodTotal(
            method=row.method,
            paid=Decimal(row.paid),
            refunded=Decimal(row.refunded),
            net=Decimal(row.net),
        )
        for row in await conn.execute(
            select(
                p.c.method,
                func.coalesce(func.sum(_when(p.c.amount > 0, p.c.amount)), 0).label("paid"),
                func.coalesce(-func.sum(_when(p.c.amount < 0, p.c.amount)), 0).label("refunded"),
                func.sum(p.c.amount).label("net"),
            )
            .where(
                p.c.store_id == shift.store_id,
                p.c.register_id == shift.register_id,
                p.c.occurred_at >= shift.opened_at,
                p.c.occurred_at <= until,
            )
            .group_by(p.c.method)
            .order_by(p.c.method)
        )
    ]
    moves = [
        CashMove(r.kind, r.amount, r.reason, r.recorded_by, r.recorded_at)
        for r in await conn.execute(
            select(cash_movements)
            .where(cash_movements.c.shift_id == shift.shift_id)
            .order_by(cash_movements.c.movement_id)
        )
    ]
    paid_in = sum((m.amount for m in moves if m.kind == "in"), Decimal(0))
    paid_out = sum((m.amount for m in moves if m.kind == "out"), Decimal(0))
    cash = next((m.net for m in methods if m.method == "cash"), Decimal(0))
    expected = shift.opening_float + cash + paid_in - paid_out
    counted = shift.counted_cash
    return ShiftReport(
        shift=shift,
        kind="X" if shift.is_open else "Z",
        until=until,
        receipts=int(sums.receipts),
        items=int(sums.items),
        sales=Decimal(sums.sales),
        returns=Decimal(sums.returns),
        discounts=Decimal(sums.discounts),
        tax=Decimal(sums.tax),
        first_receipt=receipts_in_order[0] if receipts_in_order else None,
        last_receipt=receipts_in_order[-1] if receipts_in_order else None,
        by_method=methods,
        cash_moves=moves,
        paid_in=paid_in,
        paid_out=paid_out,
        expected_cash=expected,
        counted_cash=counted,
        over_short=None if counted is None else counted - expected,
        pending=await _pending(conn, sales_topic),
    )


async def _pending(conn: AsyncConnection, sales_topic: str) -> int:
    """Sales and returns the app has recorded that the stream job has not applied yet
    (the whole store's: while there are any, a report may still grow)."""
    return int(
        await conn.scalar(
            select(func.count())
            .select_from(outbox)
            .outerjoin(processed_events, processed_events.c.event_id == outbox.c.event_id)
            .where(outbox.c.topic == sales_topic, processed_events.c.event_id.is_(None))
        )
        or 0
    )


def ensure_shift_open_sync(settings: Settings, *, cashier: str, opening_float: int = 0) -> None:
    """Open a shift at the settings' register unless one is open (for scripts, tests and
    benchmarks that ring up sales at the counter). Audited like one opened at the till."""
    engine = make_sync_engine(settings)
    try:
        with engine.begin() as conn:
            # The unique open_register keeps a second open shift out: IGNORE skips it.
            opened = conn.execute(
                insert(shifts)
                .prefix_with("IGNORE")
                .values(
                    store_id=settings.store_id,
                    register_id=settings.register_id,
                    cashier=cashier,
                    opened_at=_utc_now(),
                    opening_float=opening_float,
                )
            )
            if opened.rowcount == 1:
                conn.execute(
                    insert(audit_log).values(
                        audit_values(
                            actor=f"user:{cashier}",
                            action="shift.opened",
                            target=f"shift:{opened.lastrowid}",
                            details={"register": settings.register_id, "float": str(opening_float)},
                        )
                    )
                )
    finally:
        engine.dispose()
