"""Publishes events to Kafka with an idempotent producer (acks=all)."""

from __future__ import annotations

import asyncio
import time

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError

from pos_app.events.schemas import SaleCompleted
from pos_app.settings import Settings


class EventPublisher:
    def __init__(self, settings: Settings) -> None:
        self.topic = settings.sales_topic
        self.producer = AIOKafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            enable_idempotence=True,  # implies acks=all; retries cannot duplicate
            linger_ms=2,
            request_timeout_ms=10_000,
        )

    async def start(self, *, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                await self.producer.start()
                return
            except KafkaConnectionError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(1)

    async def stop(self) -> None:
        await self.producer.stop()

    async def publish_sale(self, event: SaleCompleted) -> None:
        """Returns once the broker has the event (all in-sync replicas)."""
        key, value = event.to_kafka()
        await self.producer.send_and_wait(self.topic, value=value, key=key)

    async def ping(self) -> None:
        await asyncio.wait_for(self.producer.partitions_for(self.topic), timeout=3)
