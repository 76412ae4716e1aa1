"""Live pages (pos_app/live) on the real stack: one MySQL watcher per process wakes every
open stream, and GET /live/events tells a signed-in page of a sale once the stream job
has stored it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import AsyncGenerator, Iterator
from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy import Engine

from pos_app.db.engine import make_async_engine
from pos_app.live.routes import CHANGED, HELLO, changes
from pos_app.live.watcher import ChangeWatcher
from pos_app.settings import Settings
from tests.stack_support import ChildProcess, free_port, log_in
from tests.today_support import stored_age, wait_idle, wait_stored

pytestmark = pytest.mark.stack
SKU = "TKP-BLK-XL"  # sold by no other test
SUBSCRIBERS = 20
INTERVAL = 0.1
Lines = queue.Queue[tuple[float, str]]


def sell(api: httpx.Client) -> str:
    response = api.post("/api/v1/sales", json={"lines": [{"sku": SKU, "quantity": 1}]})
    assert response.status_code == 201, response.text
    return str(response.json()["sale_id"])


async def next_line(stream: AsyncGenerator[str]) -> str:
    return await anext(stream)


def test_one_watcher_wakes_every_subscriber_and_ends_them_at_shutdown(
    api: httpx.Client, mysql: Engine, settings: Settings, stream_job: ChildProcess
) -> None:
    wait_idle(mysql)

    async def scenario() -> None:
        engine = make_async_engine(settings)
        watcher = ChangeWatcher(engine, interval=INTERVAL)
        watcher.start()
        streams = [changes(watcher, heartbeat=60) for _ in range(SUBSCRIBERS)]
        try:
            for stream in streams:
                assert await anext(stream) == HELLO
            waiting = [asyncio.create_task(next_line(stream)) for stream in streams]
            started, asked_before = time.monotonic(), watcher.queries
            sale_id = await asyncio.to_thread(sell, api)
            await asyncio.to_thread(wait_stored, mysql, [sale_id])
            woken = await asyncio.wait_for(asyncio.gather(*waiting), timeout=10)
            assert woken == [CHANGED] * SUBSCRIBERS
            # One query loop for all of them: a poller per subscriber would ask 20 times as often.
            elapsed = time.monotonic() - started
            assert 1 <= watcher.queries - asked_before <= elapsed / INTERVAL + 2
            assert watcher.changes >= 1

            # At shutdown every open stream ends, rather than waiting for its heartbeat.
            pending = [asyncio.create_task(next_line(stream)) for stream in streams]
            await asyncio.sleep(0.2)
            await watcher.stop()
            ended = await asyncio.wait_for(
                asyncio.gather(*pending, return_exceptions=True), timeout=2
            )
            assert all(isinstance(end, StopAsyncIteration) for end in ended), ended
        finally:
            await watcher.stop()
            for stream in streams:
                await stream.aclose()
            await engine.dispose()

    asyncio.run(scenario())


def test_the_watcher_outlives_mysql_being_away(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing listens on the port it is given: it logs, retries and stops cleanly."""
    away = settings.model_copy(update={"mysql_port": free_port()})

    async def scenario() -> None:
        engine = make_async_engine(away)
        watcher = ChangeWatcher(engine, interval=INTERVAL)
        watcher.start()
        stream = changes(watcher, heartbeat=60)
        try:
            assert await anext(stream) == HELLO
            waiting = asyncio.create_task(next_line(stream))
            await asyncio.sleep(2)
            assert watcher.queries == 0 and not waiting.done()  # no answer, no event
            await watcher.stop()
            with pytest.raises(StopAsyncIteration):
                await asyncio.wait_for(waiting, timeout=2)
        finally:
            await watcher.stop()
            await stream.aclose()
            await engine.dispose()

    with caplog.at_level(logging.WARNING, logger="pos.live"):
        asyncio.run(scenario())
    retries = [r for r in caplog.records if "live watcher" in r.getMessage()]
    assert len(retries) >= 2, caplog.text  # it kept trying, and said so


@pytest.fixture
def cashier(app_url: str, users: dict[str, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=app_url, timeout=httpx.Timeout(15, read=60)) as client:
        log_in(client, "cashier", users["cashier"])
        yield client


@contextmanager
def live_stream(client: httpx.Client) -> Iterator[tuple[httpx.Response, Lines]]:
    """/live/events open, its lines queued with the time each arrived by a reader thread
    that ends when the stream is closed on the way out."""
    response = client.send(client.build_request("GET", "/live/events"), stream=True)
    lines: Lines = queue.Queue()

    def read() -> None:
        with contextlib.suppress(httpx.HTTPError, httpx.StreamError, OSError):
            for line in response.iter_lines():
                lines.put((time.monotonic(), line))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        yield response, lines
    finally:
        response.close()
        reader.join(timeout=5)


def test_the_stream_tells_a_signed_in_page_of_a_stored_sale(
    cashier: httpx.Client, api: httpx.Client, mysql: Engine, stream_job: ChildProcess
) -> None:
    wait_idle(mysql)
    with live_stream(cashier) as (response, lines):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["x-accel-buffering"] == "no"
        assert lines.get(timeout=5)[1] == "retry: 1000"  # the stream is open
        age = age_when_told(api, mysql, lines)
    # It came after the stream job's write (a few ms of rounding aside), and soon: the
    # watcher asks every 250 ms (a loose bound, for a loaded machine; bench/ measures).
    assert -0.05 < age < 3.0, age


def age_when_told(api: httpx.Client, mysql: Engine, lines: Lines) -> float:
    """Sells, then reads `changed` events until the one that finds the sale stored: how
    long it had been stored when that event came (by MySQL's clock)."""
    sale_id = sell(api)
    deadline = time.monotonic() + 60
    while True:
        arrived, line = lines.get(timeout=max(deadline - time.monotonic(), 0.1))
        if line == "event: changed":
            age = stored_age(mysql, sale_id)
            if age is not None:
                return age - (time.monotonic() - arrived)
