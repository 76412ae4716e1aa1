"""Fault drills on the real stack: during a burst of sales through the API, a broker,
the stream job, the database or the raw store (FerretDB) dies. Afterwards every sale
the API acknowledged is in MySQL and in MongoDB exactly once, and the totals are exact
to the kyat.

The client behaves as an integration should: each sale has its own Idempotency-Key,
and a request that fails (503, a dropped connection, a timeout) is sent again with the
same key until it is acknowledged."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select

from pos_app.db.tables import processed_events, sales
from pos_app.settings import Settings
from stack import services
from stack.processes import ProcessFiles
from tests.stack_support import ChildProcess, wait_for

pytestmark = pytest.mark.stack
BURST = 1000
CLIENTS = 4
SKUS = ["LGY-COT-BLU", "LGY-COT-GRN", "TKP-WHT-L", "EGY-CRM-S", "SDL-MRN-8", "BAG-SHN-RED"]


def report(line: str) -> None:
    """Figures for the record: printed, and kept under the stack's state folder."""
    print(line)
    path = Settings().state_dir / "reports" / "fault-tests.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as out:
        out.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {line}\n")


@dataclass
class Burst:
    """BURST sales posted by CLIENTS threads, each retried with its key until acknowledged."""

    url: str
    headers: dict[str, str]
    acknowledged: dict[str, Decimal] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    retries: int = 0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self) -> list[threading.Thread]:
        threads = [
            threading.Thread(target=self._client, args=(n,), daemon=True) for n in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        return threads

    def _client(self, number: int) -> None:
        with httpx.Client(base_url=self.url, headers=self.headers, timeout=10) as client:
            for i in range(number, BURST, CLIENTS):
                body = {
                    "lines": [
                        {"sku": SKUS[i % len(SKUS)], "quantity": 1 + i % 3},
                        {"sku": SKUS[(i + 2) % len(SKUS)], "quantity": 1},
                    ]
                }
                self._post_until_acknowledged(client, body, key=uuid.uuid4().hex)

    def _post_until_acknowledged(self, client: httpx.Client, body: Any, key: str) -> None:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                response = client.post("/api/v1/sales", json=body, headers={"Idempotency-Key": key})
                if response.status_code == 201:
                    sale = response.json()
                    with self.lock:
                        self.acknowledged[sale["sale_id"]] = Decimal(sale["totals"]["total"])
                        self.lines[sale["sale_id"]] = len(sale["lines"])
                    return
                if response.status_code != 503:
                    self.errors.append(f"{response.status_code}: {response.text[:200]}")
                    return
            except httpx.HTTPError:
                pass
            with self.lock:
                self.retries += 1
            time.sleep(0.5)
        self.errors.append(f"sale with key {key} never acknowledged")

    def count(self) -> int:
        with self.lock:
            return len(self.acknowledged)


def kill_service(settings: Settings, name: str) -> None:
    pid = ProcessFiles(settings.state_dir, name).running_pid()
    assert pid is not None, f"{name} is not running"
    os.killpg(pid, signal.SIGKILL)


def check_exactly_once(burst: Burst, mysql: Engine, mongo: Any) -> float:
    """Wait for the pipeline to catch up; assert exactly once; return seconds waited."""
    ids = list(burst.acknowledged)
    started = time.monotonic()

    def processed() -> int:
        with mysql.connect() as conn:
            query = select(func.count()).where(processed_events.c.sale_id.in_(ids))
            return int(conn.scalar(query) or 0)

    wait_for(lambda: processed() == len(ids), timeout=300, what="every acknowledged sale")
    caught_up = time.monotonic() - started
    with mysql.connect() as conn:
        row = conn.execute(
            select(
                func.count(), func.count(sales.c.sale_id.distinct()), func.sum(sales.c.sales)
            ).where(sales.c.sale_id.in_(ids))
        ).one()
    assert row[0] == sum(burst.lines.values()), "sale lines lost or doubled"
    assert row[1] == len(ids)
    assert row[2] == sum(burst.acknowledged.values()), "totals differ from what was acknowledged"

    def raw_copies() -> int:
        return int(mongo.raw_events.count_documents({"event.sale_id": {"$in": ids}}))

    # The raw copy is its own query, a few small batches behind MySQL after a fault.
    stored = wait_for(
        lambda: (n := raw_copies()) >= len(ids) and n,
        timeout=300,
        what="a raw event for every acknowledged sale in MongoDB",
    )
    assert stored == len(ids), f"{stored} raw events for {len(ids)} sales: some doubled"
    return caught_up


def drill(
    name: str,
    fault: Callable[[], None],
    app_url: str,
    auth_headers: dict[str, str],
    mysql: Engine,
    mongo: Any,
) -> None:
    burst = Burst(app_url, auth_headers)
    started = time.monotonic()
    threads = burst.run()
    wait_for(lambda: burst.count() >= BURST // 4, timeout=120, what="a quarter of the burst")
    fault()
    for thread in threads:
        thread.join(timeout=400)
    posted_in = time.monotonic() - started
    assert not burst.errors, burst.errors[:5]
    assert burst.count() == BURST
    caught_up = check_exactly_once(burst, mysql, mongo)
    report(
        f"fault drill '{name}': {BURST} sales acknowledged in {posted_in:.1f} s "
        f"({burst.retries} client retries); pipeline complete {caught_up:.1f} s after the "
        f"last acknowledgement; MySQL and MongoDB hold each sale exactly once, "
        f"total {sum(burst.acknowledged.values())} exact"
    )


def test_checkout_does_not_wait_for_kafka(
    settings: Settings,
    app_url: str,
    auth_headers: dict[str, str],
    stream_job: ChildProcess,
    mysql: Engine,
    mongo: Any,
) -> None:
    kill_service(settings, "kafka")
    try:
        with httpx.Client(base_url=app_url, headers=auth_headers, timeout=10) as client:
            timings, ids = [], []
            for i in range(1000):
                t0 = time.perf_counter()
                response = client.post(
                    "/api/v1/sales", json={"lines": [{"sku": SKUS[i % len(SKUS)], "quantity": 1}]}
                )
                timings.append(time.perf_counter() - t0)
                assert response.status_code == 201, response.text
                ids.append(response.json()["sale_id"])
            detailed = client.get("/health")
            ready = client.get("/health/ready")
        health = detailed.json()
        # The counter sells without Kafka: degraded, not down, and still ready.
        assert (detailed.status_code, health["status"]) == (200, "degraded")
        assert ready.status_code == 200
        assert health["checks"]["kafka"].startswith("down")
        assert health["outbox"]["pending"] >= 1000
        timings.sort()
        report(
            f"checkout with Kafka down: 1000 sales, p50 {timings[500] * 1000:.1f} ms, "
            f"p95 {timings[950] * 1000:.1f} ms, max {timings[-1] * 1000:.1f} ms per sale; "
            f"outbox {health['outbox']['pending']} pending"
        )
        assert timings[950] < 1.0, "checkout waited for Kafka"
    finally:
        services.up(settings, ["kafka"])
    returned = time.monotonic()

    def drained() -> bool:
        with httpx.Client(base_url=app_url, headers=auth_headers, timeout=10) as client:
            return client.get("/health").json()["outbox"]["pending"] == 0

    wait_for(drained, timeout=120, what="the outbox to drain after Kafka returned")
    report(f"outbox drained {time.monotonic() - returned:.1f} s after Kafka was back up")

    def processed() -> bool:
        # A fresh connection each time: one transaction would keep seeing its snapshot.
        with mysql.connect() as conn:
            query = select(func.count()).where(processed_events.c.sale_id.in_(ids))
            return conn.scalar(query) == len(ids)

    wait_for(processed, timeout=180, what="the 1000 sales in MySQL")


def test_kafka_killed_and_restarted_during_a_burst(
    settings: Settings,
    app_url: str,
    auth_headers: dict[str, str],
    stream_job: ChildProcess,
    mysql: Engine,
    mongo: Any,
) -> None:
    def fault() -> None:
        kill_service(settings, "kafka")
        time.sleep(10)
        services.up(settings, ["kafka"])

    drill("kill -9 Kafka, restart 10 s later", fault, app_url, auth_headers, mysql, mongo)


def test_stream_job_killed_and_restarted_during_a_burst(
    app_url: str,
    auth_headers: dict[str, str],
    stream_job: ChildProcess,
    mysql: Engine,
    mongo: Any,
) -> None:
    def fault() -> None:
        stream_job.kill()
        stream_job.start()

    drill("kill -9 the stream job, restart", fault, app_url, auth_headers, mysql, mongo)


def test_mariadb_restarted_during_a_burst(
    settings: Settings,
    app_url: str,
    auth_headers: dict[str, str],
    stream_job: ChildProcess,
    mysql: Engine,
    mongo: Any,
) -> None:
    def fault() -> None:
        services.stop_service(settings, "mariadb")
        services.up(settings, ["mariadb"])
        mysql.dispose()

    drill("restart MariaDB", fault, app_url, auth_headers, mysql, mongo)


def test_ferretdb_killed_during_a_burst_does_not_hold_mysql_back(
    settings: Settings,
    app_url: str,
    auth_headers: dict[str, str],
    stream_job: ChildProcess,
    mysql: Engine,
    mongo: Any,
) -> None:
    """The raw copy and the MySQL apply are separate queries: while FerretDB is down the
    MySQL tables keep up with the counter; the raw copy catches up once it is back."""
    burst = Burst(app_url, auth_headers)
    threads = burst.run()
    wait_for(lambda: burst.count() >= BURST // 4, timeout=120, what="a quarter of the burst")
    kill_service(settings, "ferretdb")
    down_since = time.monotonic()
    try:
        wait_for(lambda: burst.count() >= BURST // 2, timeout=120, what="half the burst")
        with burst.lock:
            sold_meanwhile = list(burst.acknowledged)

        def applied() -> bool:
            with mysql.connect() as conn:
                query = select(func.count()).where(processed_events.c.sale_id.in_(sold_meanwhile))
                return conn.scalar(query) == len(sold_meanwhile)

        wait_for(applied, timeout=60, what="the sales in MySQL while FerretDB is down")
        report(
            f"fault drill 'kill -9 FerretDB': {len(sold_meanwhile)} sales in MySQL "
            f"{time.monotonic() - down_since:.1f} s after FerretDB was killed, while it was down"
        )
    finally:
        services.up(settings, ["ferretdb"])
    for thread in threads:
        thread.join(timeout=400)
    assert not burst.errors, burst.errors[:5]
    assert burst.count() == BURST
    check_exactly_once(burst, mysql, mongo)
    report(f"fault drill 'kill -9 FerretDB': MySQL and MongoDB hold each of {BURST} sales once")


def test_reports_are_kept(settings: Settings) -> None:
    assert Path(settings.state_dir / "reports" / "fault-tests.txt").exists()
