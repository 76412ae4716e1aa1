"""Document ids (sale, receipt) are unique: one drawn twice in the same second gets a
fresh suffix before it is stored, so the pipeline never refuses a recorded sale as a
duplicate (on the real MySQL)."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime

import pytest
from sqlalchemy import select

import pos_app.events.movements as movements
import pos_app.sales.service as sales_service
from pos_app.auth.tables import audit_log
from pos_app.db.engine import make_async_engine
from pos_app.db.tables import outbox
from pos_app.inventory.movements import ReceiptIn, ReceiptLineIn, record_receipt
from pos_app.sales.schemas import PaymentIn, SaleIn, SaleLineIn
from pos_app.sales.service import record_sale
from pos_app.settings import Settings
from tests.stack_support import scratch_shop

pytestmark = pytest.mark.stack

TAKEN = "-120000-AAAAAA"  # every draw in these tests: the same second, the same suffix


@pytest.fixture(scope="module")
def ids_shop(settings: Settings) -> Settings:
    return scratch_shop(settings, "ids")


def _always_the_same(prefix: str, now: datetime) -> str:
    return f"{prefix}20261128{TAKEN}"


async def _two_of_each(settings: Settings) -> tuple[list[str], list[str], list[tuple[str, str]]]:
    """Two sales and two receipts whose first draws clash; (sale ids, receipt ids,
    (document id, payload) of every outbox row)."""
    engine = make_async_engine(settings)
    sale = SaleIn(
        lines=[SaleLineIn(sku="LGY-COT-NVY", quantity=1)], payment=PaymentIn(method="card")
    )
    receipt = ReceiptIn(lines=[ReceiptLineIn(sku="LGY-COT-NVY", quantity=5)])
    try:
        sale_ids, receipt_ids = [], []
        for _ in range(2):
            async with engine.begin() as conn:
                done = await record_sale(conn, sale, settings=settings, client="ids-test")
                sale_ids.append(done.event.sale_id)
            async with engine.begin() as conn:
                got = await record_receipt(
                    conn, receipt, settings=settings, user="ids-test", actor="ids-test"
                )
                receipt_ids.append(got.receipt_id)
        async with engine.connect() as conn:
            rows = (await conn.execute(select(outbox.c.document_id, outbox.c.payload))).all()
            targets = set((await conn.scalars(select(audit_log.c.target))).all())
        assert {f"sale:{s}" for s in sale_ids} | {f"receipt:{r}" for r in receipt_ids} <= targets
        return sale_ids, receipt_ids, [(row.document_id, row.payload) for row in rows]
    finally:
        await engine.dispose()


def test_a_document_id_drawn_twice_is_drawn_again(
    ids_shop: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sales_service, "new_document_id", _always_the_same)
    monkeypatch.setattr(movements, "new_document_id", _always_the_same)

    sale_ids, receipt_ids, rows = asyncio.run(_two_of_each(ids_shop))

    assert sale_ids[0] == f"S20261128{TAKEN}"
    assert receipt_ids[0] == f"GR20261128{TAKEN}"
    for first, second in (sale_ids, receipt_ids):
        assert second != first
        assert second[:-6] == first[:-6]  # same prefix and second, a new suffix
    # What went to the outbox says the ids the cashier and the manager were shown.
    assert sorted(doc for doc, _ in rows) == sorted(sale_ids + receipt_ids)
    for document_id, payload in rows:
        event = json.loads(payload)
        assert document_id == event.get("sale_id", event.get("receipt_id"))
