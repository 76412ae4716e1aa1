"""Kafka topics of the pipeline, created at start-up."""

from __future__ import annotations

import asyncio
import contextlib
import time

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError

from pos_app.settings import Settings


def topic_specs(settings: Settings) -> list[NewTopic]:
    # Sales and returns are keyed by sale id; three partitions let the job read in
    # parallel on a small machine while keeping every event of one sale in order.
    # Inventory events are keyed by store and are few: one partition keeps them in order.
    # On a cluster a write with acks=all needs min.insync.replicas copies (docs/scaling.md).
    configs = {"min.insync.replicas": str(settings.kafka_min_insync_replicas)}
    return [
        NewTopic(
            name=settings.sales_topic,
            num_partitions=settings.kafka_sales_partitions,
            replication_factor=settings.kafka_replication_factor,
            topic_configs=configs,
        ),
        NewTopic(
            name=settings.inventory_topic,
            num_partitions=1,
            replication_factor=settings.kafka_replication_factor,
            topic_configs=configs,
        ),
    ]


async def ensure_topics(settings: Settings, *, timeout: float = 60.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            specs = topic_specs(settings)
            missing = [t for t in specs if t.name not in existing]
            if missing:
                with contextlib.suppress(TopicAlreadyExistsError):  # a racing creator
                    await admin.create_topics(missing)
            created = {t.name for t in missing}
            return [
                f"topic {t.name}: {'created' if t.name in created else 'exists'}" for t in specs
            ]
        except KafkaConnectionError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(1)
        finally:
            await admin.close()


def ensure_topics_sync(settings: Settings) -> list[str]:
    return asyncio.run(ensure_topics(settings))
