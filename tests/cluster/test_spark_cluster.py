"""The stream job runs unchanged on a Spark standalone cluster (a master and two workers
started from pyspark's own jars on this machine) and writes the same tables as `local[2]`
from the same events: sales of several stores, returns, goods received, adjustments, and a
bad record."""

from __future__ import annotations

import json
import signal
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient
from sqlalchemy import MetaData, Table, func, select

from pos_app.db.engine import make_sync_engine
from pos_app.db.tables import processed_events
from pos_app.settings import Settings
from stack.scratch import fresh_shop
from tests.cluster.clusters import own_state_dir, spark_standalone
from tests.factories import encode, movement_event, return_event, sale_event
from tests.stack_support import ChildProcess, wait_for

pytestmark = pytest.mark.stack

STORES = ("yangon-1", "mandalay-1", "naypyitaw-1")
SKUS = [("LGY-COT-NVY", "16000"), ("LGY-COT-BLU", "18000"), ("EGY-WHT-M", "26000")]
# Tables the stream job writes, compared row for row; columns the database stamps with its
# own clock, or numbers by arrival (batch ids, auto-increment ids), are left out.
TABLES = [
    "sales",
    "sale_returns",
    "stock_movements",
    "stocks",
    "stock_alerts",
    "processed_events",
    "sales_daily",
    "sales_monthly",
    "sales_yearly",
    "product_monthly_sales",
]
NOT_COMPARED = {"processed_at", "updated_at", "raised_at", "batch_id", "alert_id", "created_at"}


def _events() -> tuple[list[tuple[bytes, bytes]], list[tuple[bytes, bytes]], int]:
    """(sales-topic messages, inventory-topic messages, how many are valid events)."""
    sales_msgs, inventory_msgs = [], []
    for n in range(60):
        sku, price = SKUS[n % len(SKUS)]
        event = sale_event(
            [(sku, 1 + n % 3, price), ("LGY-COT-GRN", 1, "18000")],
            store_id=STORES[n % len(STORES)],
            occurred_at=f"2026-{1 + n % 12:02d}-{1 + n % 27:02d}T10:{n % 60:02d}:00+06:30",
        )
        sales_msgs.append(encode(event))
        if n % 10 == 0:  # a return of the first line, a day later
            back = return_event(
                event["sale_id"],
                [(1, sku, 1, price)],
                store_id=event["store_id"],
                occurred_at=event["occurred_at"].replace("T10", "T15"),
            )
            sales_msgs.append(encode(back))
    sales_msgs.append((b"broken", b"{not json"))  # rejected, in both runs alike
    for n, store in enumerate(STORES):
        received = movement_event("received", [("LGY-COT-NVY", 10 + n)], store_id=store)
        adjusted = movement_event("adjusted", [("EGY-WHT-M", -1)], store_id=store)
        inventory_msgs += [(store.encode(), json.dumps(e).encode()) for e in (received, adjusted)]
    return sales_msgs, inventory_msgs, len(sales_msgs) - 1 + len(inventory_msgs)


def _publish(settings: Settings, topic: str, messages: list[tuple[bytes, bytes]]) -> None:
    import asyncio

    from aiokafka import AIOKafkaProducer

    async def go() -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap_servers, acks="all", enable_idempotence=True
        )
        await producer.start()
        try:
            for key, value in messages:
                await producer.send(topic, value=value, key=key)
            await producer.flush()
        finally:
            await producer.stop()

    asyncio.run(go())


def _tables(settings: Settings) -> dict[str, list[tuple[Any, ...]]]:
    engine = make_sync_engine(settings)
    try:
        meta = MetaData()
        found = {}
        with engine.connect() as conn:
            for name in TABLES:
                table = Table(name, meta, autoload_with=conn)
                columns = [c for c in table.columns if c.name not in NOT_COMPARED]
                found[name] = sorted(tuple(row) for row in conn.execute(select(*columns)).all())
        return found
    finally:
        engine.dispose()


def _applied(settings: Settings) -> int:
    engine = make_sync_engine(settings)
    try:
        with engine.connect() as conn:
            query = select(func.count()).select_from(processed_events)
            return int(conn.execute(query).scalar_one())
    finally:
        engine.dispose()


def _stored(settings: Settings) -> tuple[int, int]:
    """(raw events, rejected events) in MongoDB."""
    with MongoClient(settings.mongo_url) as client:
        db = client[settings.mongo_database]
        return db["raw_events"].count_documents({}), db["rejected_events"].count_documents({})


def test_stream_job_on_a_standalone_cluster_writes_what_local_mode_writes(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    base = Settings()
    prefix = f"spark-{uuid.uuid4().hex[:8]}"
    state = own_state_dir(base, tmp_path_factory.mktemp("spark-cluster"))
    shops = {
        mode: base.model_copy(
            update={
                "kafka_topic_prefix": prefix,  # both jobs read the same events
                "mysql_database": f"pos_{mode}",
                "mongo_database": f"pos_{mode}",
                "stream_checkpoint_dir": str(tmp_path_factory.mktemp(f"checkpoints-{mode}")),
            }
        )
        for mode in ("local", "spark")
    }
    for shop in shops.values():
        fresh_shop(shop)
    sales_msgs, inventory_msgs, valid = _events()
    _publish(base, shops["local"].sales_topic, sales_msgs)
    _publish(base, shops["local"].inventory_topic, inventory_msgs)

    with spark_standalone(base.model_copy(update={"state_dir": state}), workers=2) as master:
        shops["local"] = shops["local"].model_copy(update={"spark_master": "local[2]"})
        shops["spark"] = shops["spark"].model_copy(update={"spark_master": master})
        jobs = {
            mode: ChildProcess(
                f"stream-{mode}",
                [sys.executable, "-m", "stream_jobs.sales_stream"],
                shop.as_env(),
                tmp_path,
            )
            for mode, shop in shops.items()
        }
        try:
            for job in jobs.values():
                job.start()
            for mode, job in jobs.items():

                def done(mode: str = mode, job: ChildProcess = job) -> bool:
                    if not job.alive():
                        pytest.fail(f"the {mode} stream job exited:\n{job.log()[-3000:]}")
                    # MySQL is written first, MongoDB after it in the same batch: wait for both
                    # so that stopping the job does not cut a batch in half.
                    return _applied(shops[mode]) == valid and _stored(shops[mode]) == (valid, 1)

                wait_for(done, timeout=300, what=f"the {mode} job to store {valid} events")
        finally:
            for job in jobs.values():
                job.kill(signal.SIGTERM)
        # The cluster really ran it: both workers started an executor for the job.
        launched = [list((state / "spark" / f"worker-{n}").glob("app-*/*/stderr")) for n in (1, 2)]
        assert all(launched), f"executors per worker: {launched}"

    local, cluster = _tables(shops["local"]), _tables(shops["spark"])
    assert local["sales"] and local["sale_returns"] and local["stock_movements"]
    for name in TABLES:
        assert cluster[name] == local[name], name
    assert _stored(shops["spark"]) == _stored(shops["local"]) == (valid, 1)
