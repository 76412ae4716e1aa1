"""Transfers between stores on the real stack: bad input is refused and changes nothing;
5 units sent from one store and received at the other move exactly once, through the
pipeline, with the stream job killed in between."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, insert, select

from pos_app.auth.cli import create_api_key_sync
from pos_app.auth.roles import ALL_SCOPES
from pos_app.db.tables import processed_events, product_stores, stock_movements, stocks
from pos_app.settings import Settings
from tests.stack_support import ChildProcess, running_app, wait_for

pytestmark = pytest.mark.stack
SKU = "SDL-MRN-7"  # opening stock 6; used by no other test
OTHER_STORE = "mandalay-1"


@pytest.fixture(scope="module")
def auth_headers(settings: Settings) -> dict[str, str]:
    """The chain's integration key: every scope, at both stores (a key is bound to the
    stores it may use; each store's app refuses a key of the other store only)."""
    stores = [settings.store_id, OTHER_STORE]
    key = create_api_key_sync(settings, name="transfers", scopes=sorted(ALL_SCOPES), stores=stores)
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def other_store_url(settings: Settings, logs_dir: Path, mysql: Engine) -> Iterator[str]:
    """The app of a second store of the chain, which carries the product too."""
    with mysql.begin() as conn:
        conn.execute(
            insert(product_stores).prefix_with("IGNORE"), {"store_id": OTHER_STORE, "sku": SKU}
        )
    with running_app(settings.model_copy(update={"store_id": OTHER_STORE}), logs_dir) as url:
        yield url


def stock_row(mysql: Engine, store_id: str) -> dict[str, Any]:
    with mysql.connect() as conn:
        row = (
            conn.execute(select(stocks).where(stocks.c.store_id == store_id, stocks.c.sku == SKU))
            .mappings()
            .first()
        )
    return dict(row) if row else {"on_hand": 0, "total_transferred": 0}


def wait_on_hand(mysql: Engine, store_id: str, expected: int) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        row = stock_row(mysql, store_id)
        return row if row["on_hand"] == expected else None

    # Generous: a restarted job's first batch takes a minute on a busy 2-core machine.
    return wait_for(probe, timeout=300, what=f"on hand of {SKU} at {store_id} = {expected}")


def test_bad_transfers_are_refused_and_change_nothing(
    api: httpx.Client, settings: Settings, other_store_url: str, mysql: Engine
) -> None:
    before = stock_row(mysql, settings.store_id)
    transfers_before = api.get("/api/v1/transfers").json()  # the session's shop may have some
    cases = [
        ({"to_store_id": settings.store_id}, [(SKU, 1)], "not to yangon-1 itself"),
        ({"to_store_id": "nowhere-9"}, [(SKU, 1)], "unknown store: nowhere-9"),
        ({"to_store_id": OTHER_STORE}, [("NO-SUCH-SKU", 1)], "unknown SKU: NO-SUCH-SKU"),
        ({"to_store_id": OTHER_STORE}, [(SKU, 1), (SKU, 1)], "named twice"),
        (
            {"to_store_id": OTHER_STORE},
            [(SKU, before["on_hand"] + 1)],
            f"{SKU}: {before['on_hand'] + 1} to send but only {before['on_hand']} on hand",
        ),
    ]
    for head, lines, message in cases:
        body = {**head, "lines": [{"sku": s, "quantity": q} for s, q in lines]}
        answer = api.post("/api/v1/transfers", json=body)
        assert answer.status_code == 422, answer.text
        assert message in answer.json()["detail"], answer.text
    zero = api.post(
        "/api/v1/transfers",
        json={"to_store_id": OTHER_STORE, "lines": [{"sku": SKU, "quantity": 0}]},
    )
    assert zero.status_code == 422
    missing = api.post("/api/v1/transfers/TR-NOPE/receive")
    assert missing.status_code == 404 and "no transfer TR-NOPE" in missing.json()["detail"]
    assert api.get("/api/v1/transfers").json() == transfers_before
    assert stock_row(mysql, settings.store_id) == before


def test_five_units_move_once_with_the_stream_job_killed_in_between(
    api: httpx.Client,
    auth_headers: dict[str, str],
    settings: Settings,
    other_store_url: str,
    stream_job: ChildProcess,
    mysql: Engine,
    mongo: Any,
) -> None:
    here, there = settings.store_id, OTHER_STORE
    start_here = wait_on_hand(mysql, here, stock_row(mysql, here)["on_hand"])
    start_there = stock_row(mysql, there)

    sent = api.post(
        "/api/v1/transfers",
        json={
            "to_store_id": there,
            "note": "for the Mandalay shop",
            "lines": [{"sku": SKU, "quantity": 5}],
        },
    )
    assert sent.status_code == 201, sent.text
    transfer = sent.json()
    transfer_id = transfer["transfer_id"]
    assert transfer["status"] == "in_transit" and transfer["from_store_id"] == here
    assert [(li["sku"], li["quantity"]) for li in transfer["lines"]] == [(SKU, 5)]
    in_transit = api.get("/api/v1/transfers", params={"transfer_status": "in_transit"}).json()
    assert [t["transfer_id"] for t in in_transit] == [transfer_id]

    # The units leave the sending store once the job applies the sent event...
    wait_on_hand(mysql, here, start_here["on_hand"] - 5)
    # ...then the job dies, and the goods arrive while it is down.
    stream_job.kill()
    with httpx.Client(base_url=other_store_url, headers=auth_headers, timeout=15) as other:
        wrong_store = api.post(f"/api/v1/transfers/{transfer_id}/receive")
        assert wrong_store.status_code == 409, wrong_store.text
        assert f"goes to {there}" in wrong_store.json()["detail"]
        received = other.post(f"/api/v1/transfers/{transfer_id}/receive")
        assert received.status_code == 200, received.text
        assert received.json()["status"] == "received"
        again = other.post(f"/api/v1/transfers/{transfer_id}/receive")
        assert again.status_code == 409 and "already received" in again.json()["detail"]
    assert stock_row(mysql, there)["on_hand"] == start_there["on_hand"]  # nothing without the job

    stream_job.start()
    stream_job.wait_log("stream job running", timeout=180)
    arrived = wait_on_hand(mysql, there, start_there["on_hand"] + 5)
    left = stock_row(mysql, here)
    assert left["on_hand"] == start_here["on_hand"] - 5
    assert left["total_transferred"] == start_here["total_transferred"] - 5
    assert arrived["total_transferred"] == start_there["total_transferred"] + 5
    for row in (left, arrived):  # the stock identity holds at both stores
        assert row["on_hand"] == (
            row["stock_quantity"]
            + row["total_received"]
            - row["total_sold"]
            + row["total_returned"]
            + row["total_adjusted"]
            + row["total_transferred"]
        )
    with mysql.connect() as conn:
        moves = conn.execute(
            select(stock_movements.c.store_id, stock_movements.c.kind, stock_movements.c.quantity)
            .where(stock_movements.c.reason.like(f"% {transfer_id}"))
            .order_by(stock_movements.c.kind)
        ).all()
        applied = conn.scalar(
            select(func.count())
            .select_from(processed_events)
            .where(processed_events.c.sale_id.in_([transfer_id, f"{transfer_id}-IN"]))
        )
    assert [tuple(m) for m in moves] == [(there, "transfer_in", 5), (here, "transfer_out", -5)]
    assert applied == 2
    raw = wait_for(
        lambda: (
            found
            if len(found := list(mongo["raw_events"].find({"event.transfer_id": transfer_id}))) == 2
            else None
        ),
        timeout=30,
        what="both raw copies",
    )
    assert sorted(doc["event"]["event_type"] for doc in raw) == [
        "stock.transfer_received",
        "stock.transfer_sent",
    ]
    assert api.get("/api/v1/transfers", params={"transfer_status": "in_transit"}).json() == []
