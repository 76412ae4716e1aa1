"""Superset's tests compare its charts with the app's reports figure for figure, so they
run on a shop of their own, where only they sell: the session's shared shop carries
other tests' events (imported names, returns) that the comparison is not about."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from pos_app.auth.cli import create_api_key_sync
from pos_app.auth.roles import ALL_SCOPES
from pos_app.db.engine import make_sync_engine
from pos_app.settings import Settings
from tests.stack_support import (
    ChildProcess,
    drop_shop,
    running_app,
    running_stream_job,
    scratch_shop,
)


@pytest.fixture(scope="package")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    checkpoints = str(tmp_path_factory.mktemp("superset-checkpoints"))
    shop = scratch_shop(Settings(stream_checkpoint_dir=checkpoints), "superset")
    yield shop
    drop_shop(shop)


@pytest.fixture(scope="package")
def logs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("superset-logs")


@pytest.fixture(scope="package")
def stream_job(settings: Settings, logs_dir: Path) -> Iterator[ChildProcess]:
    with running_stream_job(settings, logs_dir) as job:
        yield job


@pytest.fixture(scope="package")
def app_url(settings: Settings, logs_dir: Path) -> Iterator[str]:
    with running_app(settings, logs_dir) as url:
        yield url


@pytest.fixture(scope="package")
def auth_headers(settings: Settings) -> dict[str, str]:
    key = create_api_key_sync(settings, name="superset tests", scopes=sorted(ALL_SCOPES))
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def api(app_url: str, auth_headers: dict[str, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=app_url, timeout=15, headers=auth_headers) as client:
        yield client


@pytest.fixture(scope="package")
def mysql(settings: Settings) -> Iterator[Engine]:
    engine = make_sync_engine(settings)
    yield engine
    engine.dispose()
