"""Receipts and returns read the sales documents the pipeline stores, so the outbox can
let go of published events: an old sale keeps its receipt, its lookup and its returns."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine, func, select

from pos_app.db.engine import make_async_engine
from pos_app.db.tables import outbox, sale_documents, sale_returns
from pos_app.events.relay import OutboxRelay
from pos_app.settings import Settings
from tests.stack_support import ChildProcess, log_in, wait_for

pytestmark = pytest.mark.stack
SKU = "TKP-BLK-L"


@pytest.fixture
def cashier(app_url: str, users: dict[str, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=app_url, timeout=15) as client:
        log_in(client, "cashier", users["cashier"])
        yield client


def prune(settings: Settings, *, retention_hours: float) -> int:
    """What the app's relay does once a minute, with this retention."""

    async def run() -> int:
        engine = make_async_engine(settings)
        try:
            kept = settings.model_copy(update={"outbox_retention_hours": retention_hours})
            return await OutboxRelay(engine, kept).prune()
        finally:
            await engine.dispose()

    return asyncio.run(run())


def outbox_rows(mysql: Engine, document_id: str) -> list[tuple[str, object]]:
    with mysql.connect() as conn:
        return [
            (row.payload, row.published_at)
            for row in conn.execute(
                select(outbox.c.payload, outbox.c.published_at).where(
                    outbox.c.document_id == document_id
                )
            )
        ]


def stored_document(mysql: Engine, document_id: str) -> str | None:
    with mysql.connect() as conn:
        found: str | None = conn.scalar(
            select(sale_documents.c.document).where(sale_documents.c.document_id == document_id)
        )
        return found


def published(mysql: Engine, document_id: str) -> bool:
    rows = outbox_rows(mysql, document_id)
    return bool(rows) and all(when is not None for _, when in rows)


def test_an_old_sale_keeps_its_receipt_lookup_and_returns_once_the_outbox_let_go(
    api: httpx.Client,
    cashier: httpx.Client,
    stream_job: ChildProcess,
    mysql: Engine,
    settings: Settings,
) -> None:
    answer = api.post(
        "/api/v1/sales",
        json={
            "lines": [{"sku": SKU, "quantity": 3}],
            "payment": {"method": "cash", "tendered": "500000"},
            "cashier": "Ko Aung",
        },
    )
    assert answer.status_code == 201, answer.text
    sale = answer.json()
    sale_id, total = sale["sale_id"], sale["totals"]["total"]
    money = f"{int(float(total)):,} Ks"

    # Right after Pay the receipt is there, whether the pipeline has stored it or not.
    receipt = cashier.get(f"/counter/receipts/{sale_id}")
    assert receipt.status_code == 200, receipt.text
    assert sale_id in receipt.text and money in receipt.text

    # The pipeline stores the sale as recorded.
    document = wait_for(
        lambda: stored_document(mysql, sale_id), timeout=60, what="the sale's document"
    )
    wait_for(lambda: published(mysql, sale_id), timeout=30, what="the sale published")
    [(payload, _)] = outbox_rows(mysql, sale_id)
    assert json.loads(document) == json.loads(str(payload))

    # A week's retention keeps a sale of today; none keeps nothing published.
    prune(settings, retention_hours=168)
    assert outbox_rows(mysql, sale_id)
    assert prune(settings, retention_hours=0) >= 1
    assert outbox_rows(mysql, sale_id) == []

    receipt = cashier.get(f"/counter/receipts/{sale_id}")
    assert receipt.status_code == 200, receipt.text
    # Rung up under the key's name ("tests"), whatever cashier the body named.
    assert sale_id in receipt.text and money in receipt.text and "tests" in receipt.text
    assert sale_id in cashier.get("/counter/sales").text  # today's reprint list

    found = api.get(f"/api/v1/sales/{sale_id}")
    assert found.status_code == 200, found.text
    detail = found.json()
    assert detail["source"] == "counter" and detail["cashier"] == "tests"
    assert detail["total"] == total
    assert [(line["sku"], line["quantity"], line["returnable"]) for line in detail["lines"]] == [
        (SKU, 3, 3)
    ]
    page = cashier.get("/counter/returns", params={"sale_id": sale_id})
    assert page.status_code == 200 and SKU in page.text

    back = api.post(
        f"/api/v1/sales/{sale_id}/returns",
        json={"reason": "too big", "lines": [{"line_no": 1, "quantity": 2}]},
    )
    assert back.status_code == 201, back.text
    return_id = back.json()["return_id"]
    wait_for(lambda: stored_document(mysql, return_id), timeout=60, what="the return's document")
    wait_for(lambda: published(mysql, return_id), timeout=30, what="the return published")
    with mysql.connect() as conn:
        assert (
            conn.scalar(
                select(func.sum(sale_returns.c.quantity_returned)).where(
                    sale_returns.c.sale_id == sale_id
                )
            )
            == 2
        )
    prune(settings, retention_hours=0)
    assert outbox_rows(mysql, return_id) == []

    detail = api.get(f"/api/v1/sales/{sale_id}").json()
    assert detail["return_ids"] == [return_id]
    assert [(line["returned"], line["returnable"]) for line in detail["lines"]] == [(2, 1)]
    too_many = api.post(
        f"/api/v1/sales/{sale_id}/returns",
        json={"reason": "too big", "lines": [{"line_no": 1, "quantity": 2}]},
    )
    assert too_many.status_code == 422, too_many.text
    assert "only 1 of 3 can come back" in too_many.json()["detail"]
    page = cashier.get("/counter/returns", params={"sale_id": sale_id})
    assert page.status_code == 200, page.text
    assert re.search(r'class="num returned">2<', page.text)
    assert re.search(r'name="qty_1"[^>]*> of 1<', page.text, re.S)
