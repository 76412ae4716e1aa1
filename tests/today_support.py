"""Helpers shared by the Today view's tests (tests/e2e/test_today.py and
tests/browser/test_today.py): wait for the pipeline, and the figures to expect."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Engine, bindparam, text

from tests.stack_support import wait_for


def unprocessed(mysql: Engine) -> int:
    """Events recorded in the outbox that the stream job has not stored yet."""
    with mysql.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT COUNT(*) FROM outbox o LEFT JOIN processed_events p "
                    "ON p.event_id = o.event_id WHERE p.event_id IS NULL"
                )
            ).scalar_one()
        )


def wait_idle(mysql: Engine, *, timeout: float = 60) -> None:
    """Until every event in the outbox is stored: figures read now do not move by
    themselves under the test."""
    wait_for(lambda: unprocessed(mysql) == 0, timeout=timeout, what="the pipeline to catch up")


def wait_stored(mysql: Engine, documents: Iterable[str], *, timeout: float = 60) -> None:
    """Until the stream job has stored the events of these sales (returns, receipts)."""
    wanted = set(documents)

    def stored() -> bool:
        with mysql.connect() as conn:
            query = text("SELECT sale_id FROM processed_events WHERE sale_id IN :ids")
            rows = conn.execute(
                query.bindparams(bindparam("ids", expanding=True)), {"ids": list(wanted)}
            )
            return wanted <= {r.sale_id for r in rows}

    wait_for(stored, timeout=timeout, what=f"the pipeline to store {sorted(wanted)}")


def stored_age(mysql: Engine, sale_id: str) -> float | None:
    """Seconds since the stream job stored this sale, by MySQL's clock; None: not yet."""
    with mysql.connect() as conn:
        age = conn.execute(
            text(
                "SELECT TIMESTAMPDIFF(MICROSECOND, processed_at, CURRENT_TIMESTAMP(3)) "
                "FROM processed_events WHERE sale_id = :sale_id"
            ),
            {"sale_id": sale_id},
        ).scalar_one_or_none()
    return None if age is None else age / 1e6


def average(revenue: Decimal, sales: int) -> Decimal:
    return (revenue / sales).quantize(Decimal("0.01"), ROUND_HALF_UP) if sales else Decimal(0)


def kyat(amount: Decimal | int) -> str:
    """As the pages show money (pos_app/templating.py::kyat), written out again here."""
    value = Decimal(amount)
    number = f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"
    return f"{number} Ks"
