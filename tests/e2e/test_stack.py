"""The local stack manager: idempotent `up`, data kept across `down` and `up`, and a
migration history that matches the tables the code declares."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, func, select

from pos_app.db.migrate import alembic_config
from pos_app.db.tables import products
from pos_app.settings import REPO_ROOT, Settings

pytestmark = pytest.mark.stack


def posctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "posctl", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_migrations_match_the_declared_tables(settings: Settings) -> None:
    command.check(alembic_config(settings))  # raises if a model change lacks a migration


def test_up_on_a_running_stack_changes_nothing() -> None:
    result = posctl("stack", "up")
    assert result.returncode == 0, result.stderr
    for name in ("mariadb", "kafka", "ferretdb"):
        assert f"{name}: already running" in result.stdout
    status = posctl("stack", "status")
    assert status.returncode == 0
    assert "mariadb   running (pid" in status.stdout


def test_the_stacks_files_are_private() -> None:
    """Data, logs and the demo passwords: no other OS user may read them."""
    assert posctl("stack", "up").returncode == 0
    assert Settings().state_dir.stat().st_mode & 0o077 == 0


def test_down_then_up_keeps_the_data(settings: Settings, mysql: Engine, mongo: Any) -> None:
    with mysql.connect() as conn:
        product_count = conn.scalar(select(func.count()).select_from(products))
    mongo.stack_probe.replace_one({"_id": "kept"}, {"_id": "kept", "n": 1}, upsert=True)

    down = posctl("stack", "down")
    assert down.returncode == 0, down.stderr
    assert posctl("stack", "status").returncode == 1  # not healthy while down
    up = posctl("stack", "up")
    assert up.returncode == 0, up.stderr
    assert up.stdout.count(": started") == 3

    mysql.dispose()  # the pool's connections died with the server
    with mysql.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(products)) == product_count
    assert mongo.stack_probe.find_one({"_id": "kept"}) == {"_id": "kept", "n": 1}
