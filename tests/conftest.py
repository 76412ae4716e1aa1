"""The session's fixtures on the real local stack (helpers in tests/stack_support.py).

One test shop for the whole session (databases `pos_test`, its own Kafka topics): made
once when a test first needs it, and dropped at the very end, after the app and the
stream job that use it have stopped (pytest finalizes them first: they depend on it).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from pymongo import MongoClient
from sqlalchemy import Engine

from pos_app.auth.cli import create_api_key_sync, create_user_sync
from pos_app.auth.roles import ALL_SCOPES
from pos_app.db.engine import make_sync_engine
from pos_app.settings import Settings
from tests.stack_support import (
    ChildProcess,
    drop_shop,
    make_test_settings,
    running_app,
    running_stream_job,
)


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    test_settings = make_test_settings(tmp_path_factory)
    yield test_settings
    drop_shop(test_settings)


@pytest.fixture(scope="session")
def logs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("logs")


@pytest.fixture(scope="session")
def stream_job(settings: Settings, logs_dir: Path) -> Iterator[ChildProcess]:
    with running_stream_job(settings, logs_dir) as job:
        yield job


@pytest.fixture(scope="session")
def app_url(settings: Settings, logs_dir: Path) -> Iterator[str]:
    with running_app(settings, logs_dir) as url:
        yield url


@pytest.fixture(scope="session")
def auth_headers(settings: Settings) -> dict[str, str]:
    """An integration's API key holding every scope."""
    key = create_api_key_sync(settings, name="tests", scopes=sorted(ALL_SCOPES))
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="session")
def users(settings: Settings) -> dict[str, str]:
    """One user per role: username -> password."""
    made = {
        role: f"{role}-password-{uuid.uuid4().hex[:8]}" for role in ("cashier", "manager", "admin")
    }
    for role, password in made.items():
        create_user_sync(settings, username=role, password=password, role=role)
    return made


@pytest.fixture
def api(app_url: str, auth_headers: dict[str, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=app_url, timeout=15, headers=auth_headers) as client:
        yield client


@pytest.fixture(scope="session")
def mysql(settings: Settings) -> Iterator[Engine]:
    engine = make_sync_engine(settings)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def mongo(settings: Settings) -> Iterator[Any]:
    with MongoClient(settings.mongo_url) as client:
        yield client[settings.mongo_database]


@pytest.fixture(scope="session")
def publish(settings: Settings) -> Callable[[list[tuple[bytes | None, bytes]]], None]:
    """Put raw messages (key, value) on the sales topic, bypassing the app."""

    def send(messages: list[tuple[bytes | None, bytes]]) -> None:
        async def go() -> None:
            producer = AIOKafkaProducer(
                bootstrap_servers=settings.kafka_bootstrap_servers, enable_idempotence=True
            )
            await producer.start()
            try:
                for key, value in messages:
                    await producer.send(settings.sales_topic, value=value, key=key)
                await producer.flush()
            finally:
                await producer.stop()

        asyncio.run(go())

    return send
