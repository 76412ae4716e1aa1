"""Helpers for tests on the real local stack (MariaDB, Kafka, FerretDB, Spark): our
child processes, polling, the test shop. The fixtures built on them are in
tests/conftest.py.

The stack must be running (`make test` starts it). Tests use their own MySQL and
MongoDB databases and their own Kafka topics, so they never touch the demo shop. A
missing service fails the run: it is never a reason to skip.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from pymongo import MongoClient
from sqlalchemy import create_engine, text

from pos_app.settings import REPO_ROOT, Settings
from stack.processes import log_tail, port_open
from stack.scratch import fresh_shop
from stack.services import SERVICES

T = TypeVar("T")
TEST_DB = "pos_test"


def wait_for(probe: Callable[[], T], *, timeout: float = 20.0, what: str = "condition") -> T:
    """Poll until probe() returns something truthy; fail with `what` after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what} (last: {value!r})")
        time.sleep(0.2)


class ChildProcess:
    """A process of ours (the app, the stream job) with its own log, killable by group."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name, self.argv, self.env = name, argv, env
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env},
                cwd=REPO_ROOT,
                start_new_session=True,
            )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)
        self.proc.wait(timeout=60)

    def wait_log(self, marker: str, *, timeout: float, after: int = 0) -> None:
        def seen() -> bool:
            if not self.alive():
                pytest.fail(f"{self.name} exited:\n{log_tail(self.log_path, 30)}")
            return marker in self.log()[after:]

        wait_for(seen, timeout=timeout, what=f"{self.name} to log {marker!r}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_test_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A fresh test shop (database `pos_test`, its own topics) on the running stack."""
    base = Settings()
    ports = {svc.name: svc.port_of(base) for svc in SERVICES}
    down = [f"{name} (127.0.0.1:{port})" for name, port in ports.items() if not port_open(port)]
    if down:
        pytest.fail(f"the local stack is not running: {', '.join(down)}; run `posctl stack up`")
    test_settings = base.model_copy(
        update={
            "mysql_database": TEST_DB,
            "mongo_database": TEST_DB,
            "kafka_topic_prefix": f"test-{uuid.uuid4().hex[:8]}",
            "stream_checkpoint_dir": str(tmp_path_factory.mktemp("checkpoints")),
            # Small batches, so a kill can land in the middle of a backlog.
            "stream_max_offsets_per_trigger": 40,
            # The stream job's own metrics, scraped by tests/e2e/test_observability.py.
            "stream_metrics_port": free_port(),
            # Tests recompute refill plans at will; test_security checks the limit.
            "refill_refresh_seconds": 0,
        }
    )
    fresh_shop(test_settings)
    return test_settings


def drop_shop(settings: Settings) -> None:
    """Drop a test shop's databases; call it only once nothing of ours uses them."""
    admin = create_engine(Settings().mysql_url("pymysql"))
    try:
        with admin.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{settings.mysql_database}`"))
    finally:
        admin.dispose()
    with MongoClient(settings.mongo_url) as mongo:
        mongo.drop_database(settings.mongo_database)


def scratch_shop(settings: Settings, name: str) -> Settings:
    """A fresh shop of its own beside the test shop (databases `<shop database>_<name>`,
    topics `<name>-<id>.*`), so no stream job of the other tests reads its events."""
    database = f"{Settings().mysql_database}_{name}"
    shop = settings.model_copy(
        update={
            "mysql_database": database,
            "mongo_database": database,
            "kafka_topic_prefix": f"{name}-{uuid.uuid4().hex[:8]}",
        }
    )
    fresh_shop(shop)
    return shop


@contextlib.contextmanager
def running_stream_job(settings: Settings, logs_dir: Path) -> Iterator[ChildProcess]:
    job = ChildProcess(
        "stream",
        [sys.executable, "-m", "pos_app.cli", "stream"],
        settings.as_env(),
        logs_dir,
    )
    job.start()
    try:
        job.wait_log("stream job running", timeout=120)
        yield job
    finally:
        job.kill(signal.SIGTERM)


@contextlib.contextmanager
def running_app(settings: Settings, logs_dir: Path) -> Iterator[str]:
    port = free_port()
    app = ChildProcess(
        "app",
        [sys.executable, "-m", "pos_app.cli", "serve", "--port", str(port)],
        settings.as_env(),
        logs_dir,
    )
    app.start()
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        if not app.alive():
            pytest.fail(f"the app exited:\n{log_tail(app.log_path, 30)}")
        try:
            return httpx.get(f"{url}/health/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(healthy, timeout=60, what="the app's /health/ready")
        yield url
    finally:
        app.kill(signal.SIGTERM)


def log_in(client: httpx.Client, username: str, password: str) -> str:
    """Sign in through the login form; returns the CSRF token of the new session."""
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None, page.text[:500]
    response = client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": token.group(1),
            "next": "/",
        },
    )
    assert response.status_code == 303, response.text[:500]
    # The token is bound to the session: a page of the signed-in session gives the new one.
    page = client.get("/")
    fresh = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert fresh is not None, page.text[:500]
    return fresh.group(1)
