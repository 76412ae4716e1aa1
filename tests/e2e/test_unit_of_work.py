"""One request, one unit of work, on the real MariaDB: the app in-process (its own engine,
so a fault can be put into that engine's commit), the test shop of tests/e2e.

What the cashier saw as done must be in the database: a commit that fails answers 5xx,
never 201, and leaves nothing of the sale behind; a sale at the counter is recorded and
its cart deleted in one transaction."""

from __future__ import annotations

import re
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, event, func, select
from starlette.exceptions import StarletteDeprecationWarning

from pos_app.auth.cli import create_user_sync
from pos_app.auth.tables import audit_log
from pos_app.db.engine import POOL_WAIT_SECONDS
from pos_app.db.tables import carts, idempotency_keys, outbox
from pos_app.events.relay import OutboxRelay
from pos_app.main import create_app
from pos_app.settings import Settings
from pos_app.till.service import ensure_shift_open_sync
from tests.stack_support import log_in

with warnings.catch_warnings():
    # Starlette 1.x asks for httpx2 behind its test client; the project pins httpx.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

pytestmark = pytest.mark.stack

SALE = {"lines": [{"sku": "LGY-COT-NVY", "quantity": 1}], "payment": {"method": "card"}}


class CommitFault:
    """While `armed`, the COMMIT of a transaction that wrote to the outbox fails, as a
    lost connection would: the work was done, the commit was not. (Other commits, such as
    the session bookkeeping's, go through.)"""

    def __init__(self) -> None:
        self.armed = False
        self.refused = 0

    def note_write(self, conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO OUTBOX"):
            conn.info["wrote_outbox"] = True

    def on_commit(self, conn: Any) -> None:
        if conn.info.pop("wrote_outbox", False) and self.armed:
            self.refused += 1
            raise RuntimeError("injected: the commit failed")

    def on_rollback(self, conn: Any) -> None:
        conn.info.pop("wrote_outbox", None)


@pytest.fixture
def app_client(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, CommitFault]]:
    # These tests look at MySQL only: the in-process app's relay is left unstarted, since
    # cancelling it while it opens its Kafka clients can hang the shutdown (and another
    # app's relay may publish the test shop's outbox).
    monkeypatch.setattr(OutboxRelay, "start", lambda self: None)
    fault = CommitFault()
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        engine = app.state.engine.sync_engine
        event.listen(engine, "before_cursor_execute", fault.note_write)
        event.listen(engine, "commit", fault.on_commit)
        event.listen(engine, "rollback", fault.on_rollback)
        yield client, fault


def _count(mysql: Engine, query: Any) -> int:
    with mysql.connect() as conn:
        return int(conn.scalar(query) or 0)


def test_a_sale_whose_commit_fails_is_answered_500_and_leaves_nothing(
    app_client: tuple[TestClient, CommitFault],
    mysql: Engine,
    auth_headers: dict[str, str],
) -> None:
    client, fault = app_client
    key = f"uow-{uuid.uuid4().hex}"
    headers = {**auth_headers, "Idempotency-Key": key}
    before = _count(mysql, select(func.count()).select_from(outbox))

    fault.armed = True
    failed = client.post("/api/v1/sales", json=SALE, headers=headers)
    fault.armed = False

    assert fault.refused == 1
    assert failed.status_code == 500, failed.text
    assert _count(mysql, select(func.count()).select_from(outbox)) == before
    keys = select(func.count()).where(idempotency_keys.c.idempotency_key == key)
    assert _count(mysql, keys) == 0
    # The retry the client makes after a 500 rings the sale up, once.
    done = client.post("/api/v1/sales", json=SALE, headers=headers)
    assert done.status_code == 201, done.text
    assert "Idempotent-Replayed" not in done.headers
    assert _count(mysql, select(func.count()).select_from(outbox)) == before + 1
    assert _count(mysql, keys) == 1


def test_a_route_that_raises_keeps_none_of_its_writes(
    app_client: tuple[TestClient, CommitFault],
    mysql: Engine,
    auth_headers: dict[str, str],
) -> None:
    """An unknown SKU is found after the request began: 422, and no audit row or event."""
    client, _ = app_client
    audits = select(func.count()).select_from(audit_log)
    events = select(func.count()).select_from(outbox)
    before = (_count(mysql, audits), _count(mysql, events))
    body = {"lines": [{"sku": "NO-SUCH-SKU", "quantity": 1}]}
    response = client.post("/api/v1/sales", json=body, headers=auth_headers)
    assert response.status_code == 422
    assert (_count(mysql, audits), _count(mysql, events)) == before


def test_pay_at_the_counter_records_the_sale_and_deletes_the_cart_together(
    app_client: tuple[TestClient, CommitFault], mysql: Engine, settings: Settings
) -> None:
    client, fault = app_client
    username, password = f"uow-{uuid.uuid4().hex[:8]}", "uow-password-1"
    create_user_sync(settings, username=username, password=password, role="cashier")
    ensure_shift_open_sync(settings, cashier=username)  # the counter sells during a shift
    token = log_in(client, username, password)  # type: ignore[arg-type]
    added = client.post("/counter/cart/add", data={"sku": "LGY-COT-NVY", "csrf_token": token})
    assert added.status_code == 200, added.text
    open_carts = select(func.count()).where(carts.c.cashier == username)
    assert _count(mysql, open_carts) == 1
    sales = select(func.count()).where(audit_log.c.actor == f"user:{username}")
    sales = sales.where(audit_log.c.action == "sale.completed")

    fault.armed = True
    failed = client.post("/counter/pay", data={"method": "card", "csrf_token": token})
    fault.armed = False

    assert fault.refused == 1
    assert failed.status_code == 500
    assert (_count(mysql, sales), _count(mysql, open_carts)) == (0, 1)  # nothing half-done
    paid = client.post("/counter/pay", data={"method": "card", "csrf_token": token})
    assert paid.status_code == 201, paid.text
    sale_id = re.search(r"S\d{8}-\d{6}-[0-9A-F]{6}", paid.text)
    assert sale_id is not None, paid.text[:500]
    stored = select(func.count()).where(outbox.c.document_id == sale_id.group())
    assert (_count(mysql, stored), _count(mysql, sales), _count(mysql, open_carts)) == (1, 1, 0)


def test_two_counters_returning_the_last_unit_at_once_take_it_back_once(
    api: httpx.Client,
) -> None:
    """The return's named lock is held until its transaction has committed: the second
    return waits for it, then sees the first and is refused."""
    sold = api.post("/api/v1/sales", json=SALE)
    assert sold.status_code == 201, sold.text
    sale_id = sold.json()["sale_id"]
    body = {"reason": "wrong size", "lines": [{"line_no": 1, "quantity": 1}]}
    start = threading.Barrier(4)

    def take_back() -> httpx.Response:
        start.wait()
        return api.post(f"/api/v1/sales/{sale_id}/returns", json=body)

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: take_back(), range(4)))
    assert sorted(a.status_code for a in answers) == [201, 422, 422, 422], [a.text for a in answers]
    refused = [a.json()["detail"] for a in answers if a.status_code == 422]
    assert all("only 0 of 1 can come back" in detail for detail in refused), refused


def test_an_app_out_of_connections_answers_503_soon_and_records_nothing(
    app_client: tuple[TestClient, CommitFault],
    mysql: Engine,
    auth_headers: dict[str, str],
) -> None:
    """Every pooled connection busy (an overload): the sale gets a 503 with Retry-After
    after the pool's short wait, not the driver's 30 s, and nothing is recorded."""
    client, _ = app_client
    engine = client.app.state.engine  # type: ignore[attr-defined]
    pool = engine.sync_engine.pool
    everything = pool.size() + pool._max_overflow  # type: ignore[attr-defined]

    async def take(n: int) -> list[Any]:
        return [await engine.connect() for _ in range(n)]

    async def give_back(held: list[Any]) -> None:
        for conn in held:
            await conn.close()

    events = select(func.count()).select_from(outbox)
    before = _count(mysql, events)
    assert client.portal is not None
    held = client.portal.call(take, everything)
    try:
        started = time.monotonic()
        refused = client.post("/api/v1/sales", json=SALE, headers=auth_headers)
        waited = time.monotonic() - started
    finally:
        client.portal.call(give_back, held)
    assert refused.status_code == 503, refused.text
    assert refused.headers["Retry-After"] == "5"
    assert POOL_WAIT_SECONDS <= waited < 30, waited
    assert _count(mysql, events) == before
    assert client.post("/api/v1/sales", json=SALE, headers=auth_headers).status_code == 201
