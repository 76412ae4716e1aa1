"""Two requests with the same Idempotency-Key at once: both are answered with the one
sale, never a 500 and never a second sale (issue 19, item 6)."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import Engine, func, select

from pos_app.db.tables import idempotency_keys, outbox

pytestmark = pytest.mark.stack

SALE = {"lines": [{"sku": "BAG-SHN-GLD", "quantity": 1}]}
AT_ONCE = 8


def test_the_same_key_sent_at_once_rings_up_one_sale(
    app_url: str, auth_headers: dict[str, str], mysql: Engine
) -> None:
    key = f"race-{uuid.uuid4().hex}"
    start = threading.Barrier(AT_ONCE)

    def send(_: int) -> httpx.Response:
        with httpx.Client(base_url=app_url, timeout=30, headers=auth_headers) as client:
            start.wait()  # every request leaves together
            return client.post("/api/v1/sales", json=SALE, headers={"Idempotency-Key": key})

    for _round in range(3):  # the race is a matter of timing: give it several chances
        key = f"race-{uuid.uuid4().hex}"
        with ThreadPoolExecutor(AT_ONCE) as pool:
            answers = list(pool.map(send, range(AT_ONCE)))
        assert [a.status_code for a in answers] == [201] * AT_ONCE, [
            (a.status_code, a.text[:200]) for a in answers if a.status_code != 201
        ]
        assert len({a.json()["sale_id"] for a in answers}) == 1
        replayed = [a.headers.get("idempotent-replayed") for a in answers]
        assert replayed.count(None) == 1 and replayed.count("true") == AT_ONCE - 1
        sale_id = answers[0].json()["sale_id"]
        with mysql.connect() as conn:
            events = conn.scalar(
                select(func.count()).select_from(outbox).where(outbox.c.event_key == sale_id)
            )
            keys = conn.scalar(
                select(func.count())
                .select_from(idempotency_keys)
                .where(idempotency_keys.c.idempotency_key == key)
            )
        assert (events, keys) == (1, 1)
