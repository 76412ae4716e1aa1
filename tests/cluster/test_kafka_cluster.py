"""A chain's Kafka: three brokers (KRaft), topics with replication factor 3 and
min.insync.replicas 2, the app's outbox relay producing with acks=all. A broker is killed
(-9) in the middle of a burst of sales from several stores and started again: every sale
the app acknowledged reaches MySQL exactly once, and each store's totals are exact."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
import uuid
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from aiokafka.structs import TopicPartition
from sqlalchemy import func, select

from pos_app.catalog.seed import parse_catalog, save_catalog
from pos_app.db.engine import make_async_engine, make_sync_engine
from pos_app.db.tables import outbox, processed_events, sales, sales_daily
from pos_app.events.relay import OutboxRelay
from pos_app.sales.schemas import PaymentIn, SaleIn, SaleLineIn
from pos_app.sales.service import record_sale
from pos_app.settings import REPO_ROOT, Settings
from stack import services
from stack.processes import ProcessFiles, pid_alive
from stack.scratch import fresh_shop
from tests.cluster.clusters import free_port_pair, kafka_cluster, own_state_dir
from tests.stack_support import ChildProcess, wait_for

pytestmark = pytest.mark.stack

STORES = ("yangon-1", "mandalay-1", "naypyitaw-1")
SALES = 150
KILL_AT, RESTART_AT = 40, 90  # the broker dies after the 40th sale, returns after the 90th
ITEMS = [("LGY-COT-NVY", 1), ("LGY-COT-BLU", 2), ("EGY-WHT-M", 1)]


@pytest.fixture(scope="module")
def cluster_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    base = Settings()
    ports = [free_port_pair() for _ in range(3)]
    settings = base.model_copy(
        update={
            "state_dir": own_state_dir(base, tmp_path_factory.mktemp("kafka-cluster")),
            "kafka_bootstrap_servers": ",".join(f"127.0.0.1:{p}" for p in ports),
            "kafka_brokers": 3,
            "kafka_replication_factor": 3,
            "kafka_min_insync_replicas": 2,
            "kafka_topic_prefix": f"cluster-{uuid.uuid4().hex[:8]}",
            "mysql_database": "pos_cluster",
            "mongo_database": "pos_cluster",
            "stream_checkpoint_dir": str(tmp_path_factory.mktemp("cluster-checkpoints")),
            "stream_max_offsets_per_trigger": 60,
        }
    )
    return settings


def _sale(number: int) -> SaleIn:
    sku, quantity = ITEMS[number % len(ITEMS)]
    return SaleIn(
        lines=[SaleLineIn(sku=sku, quantity=quantity), SaleLineIn(sku="LGY-COT-GRN", quantity=1)],
        payment=PaymentIn(method="card"),
        cashier=f"cashier-{number % 4}",
    )


async def _burst(settings: Settings, nodes: list[services.KafkaNode]) -> dict[str, object]:
    """Ring up SALES sales through the app's own code (sale + event in MySQL, relayed by the
    app's outbox relay); kill the leader of a sales partition on the way and restart it."""
    engine = make_async_engine(settings)
    relay = OutboxRelay(engine, settings)
    relay.start()
    acknowledged: dict[str, tuple[str, Decimal, int]] = {}  # sale_id -> store, total, lines
    killed: services.KafkaNode | None = None
    restart: asyncio.Task[None] | None = None
    try:
        for number in range(SALES):
            store = STORES[number % len(STORES)]
            async with engine.begin() as conn:
                recorded = await record_sale(
                    conn,
                    _sale(number),
                    settings=settings.model_copy(update={"store_id": store}),
                    client="cluster-test",
                )
            event = recorded.event
            acknowledged[event.sale_id] = (store, event.totals.total, len(event.lines))
            relay.wake()
            await asyncio.sleep(0.03)
            if number + 1 == KILL_AT:
                # Wait for the relay's producer, then kill the leader of partition 0.
                await _wait_async(lambda: relay.producer is not None, 60, "the relay")
                assert relay.producer is not None
                leader = relay.producer.client.cluster.leader_for_partition(
                    TopicPartition(settings.sales_topic, 0)
                )
                killed = next(n for n in nodes if n.node_id == leader)
                pid = ProcessFiles(settings.state_dir, killed.process).running_pid()
                assert pid is not None
                os.killpg(pid, signal.SIGKILL)
                await _wait_async(lambda p=pid: not pid_alive(p), 30, "the kill")
            if number + 1 == RESTART_AT:
                assert killed is not None
                restart = asyncio.create_task(
                    asyncio.to_thread(services.start_kafka_node, settings, killed)
                )
        assert restart is not None
        await restart  # the killed broker is back (start_kafka_node waits for its port)

        async def pending() -> int:
            async with engine.connect() as conn:
                query = select(func.count()).where(outbox.c.published_at.is_(None))
                return int((await conn.execute(query)).scalar_one())

        deadline = time.monotonic() + 120
        while (left := await pending()) and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        assert left == 0, f"{left} sales still in the outbox; relay: {relay.last_error}"
    finally:
        await relay.stop()
        await engine.dispose()
    return {"acknowledged": acknowledged, "killed": killed}


async def _wait_async(probe: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not probe():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


def test_a_broker_killed_mid_burst_loses_and_duplicates_no_sale(
    cluster_settings: Settings, tmp_path: Path
) -> None:
    settings = cluster_settings
    with kafka_cluster(settings) as nodes:
        fresh_shop(settings)  # MySQL and MongoDB databases, and the topics on the cluster
        catalog = parse_catalog(REPO_ROOT / "data" / "demo_catalog.csv")
        for store in STORES:  # each store of the chain sells the catalogue
            save_catalog(settings, catalog, store_id=store)
        job = ChildProcess(
            "stream-cluster",
            [sys.executable, "-m", "pos_app.cli", "stream"],
            settings.as_env(),
            tmp_path,
        )
        job.start()  # it starts up while the burst runs, and reads through the kill
        try:
            result = asyncio.run(_burst(settings, nodes))
            acknowledged: dict[str, tuple[str, Decimal, int]] = result["acknowledged"]  # type: ignore[assignment]
            assert len(acknowledged) == SALES
            engine = make_sync_engine(settings)
            try:

                def stored() -> int:
                    if not job.alive():
                        pytest.fail(f"the stream job exited:\n{job.log()[-3000:]}")
                    with engine.connect() as conn:
                        query = select(func.count(func.distinct(sales.c.sale_id)))
                        return int(conn.execute(query).scalar_one())

                wait_for(
                    lambda: stored() == SALES,
                    timeout=240,
                    what=f"{SALES} sales in MySQL (log: {job.log_path})",
                )
                with engine.connect() as conn:
                    lines = conn.execute(
                        select(sales.c.sale_id, sales.c.store_id, sales.c.sales)
                    ).all()
                    daily = dict(
                        conn.execute(
                            select(
                                sales_daily.c.store_id, func.sum(sales_daily.c.revenue)
                            ).group_by(sales_daily.c.store_id)
                        ).all()
                    )
                    applied = conn.execute(select(func.count()).select_from(processed_events))
                    applied_events = int(applied.scalar_one())
            finally:
                engine.dispose()
        finally:
            job.kill(signal.SIGTERM)

    # Every acknowledged sale is stored, with each of its lines once, and nothing else.
    assert {sale_id for sale_id, _, _ in lines} == set(acknowledged)
    assert Counter(sale_id for sale_id, _, _ in lines) == {
        sale_id: n_lines for sale_id, (_, _, n_lines) in acknowledged.items()
    }
    assert applied_events == SALES
    # Per-store totals: the lines and the running aggregates (which would count an event
    # applied twice) both equal what the app acknowledged.
    expected: dict[str, Decimal] = {}
    for store, total, _ in acknowledged.values():
        expected[store] = expected.get(store, Decimal(0)) + total
    by_store: dict[str, Decimal] = {}
    for _, store, amount in lines:
        by_store[store] = by_store.get(store, Decimal(0)) + amount
    assert by_store == expected
    assert daily == expected
    assert set(expected) == set(STORES)
