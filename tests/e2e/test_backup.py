"""The backup drill: sell, back up, lose the data, restore, and `posctl verify` finds the
processed tables exactly what the raw events say, with every acknowledged sale there."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from pos_app.auth.cli import create_api_key_sync, create_user_sync
from pos_app.auth.roles import ALL_SCOPES
from pos_app.auth.tables import users
from pos_app.db.engine import make_sync_engine
from pos_app.db.tables import processed_events, sale_documents, sales
from pos_app.settings import REPO_ROOT, Settings
from tests.stack_support import (
    drop_shop,
    running_app,
    running_stream_job,
    scratch_shop,
    wait_for,
)

pytestmark = pytest.mark.stack


def run(shop: Settings, module: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        env={**os.environ, **shop.as_env()},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )


def applied(shop: Settings, event_ids: list[str]) -> bool:
    engine = make_sync_engine(shop)
    try:
        with engine.connect() as conn:
            found = conn.scalar(
                select(func.count())
                .select_from(processed_events)
                .where(processed_events.c.event_id.in_(event_ids))
            )
        return found == len(event_ids)
    finally:
        engine.dispose()


def test_a_shop_comes_back_whole_from_its_backup(
    settings: Settings, tmp_path: Path, logs_dir: Path
) -> None:
    shop = scratch_shop(
        settings.model_copy(update={"stream_checkpoint_dir": str(tmp_path / "checkpoints")}),
        "backup",
    )
    try:
        key = create_api_key_sync(shop, name="backup drill", scopes=sorted(ALL_SCOPES))
        create_user_sync(shop, username="owner", password=f"pw-{uuid.uuid4().hex}", role="admin")
        with (
            running_stream_job(shop, logs_dir),
            running_app(shop, logs_dir) as url,
            httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=30) as api,
        ):
            sold = []
            for quantity in (1, 2, 3):
                answer = api.post(
                    "/api/v1/sales", json={"lines": [{"sku": "TKP-BLK-L", "quantity": quantity}]}
                )
                assert answer.status_code == 201, answer.text
                sold.append(answer.json())
            back = api.post(
                f"/api/v1/sales/{sold[2]['sale_id']}/returns",
                json={"reason": "too big", "lines": [{"line_no": 1, "quantity": 1}]},
            )
            assert back.status_code == 201, back.text
            events = [s["event_id"] for s in sold] + [back.json()["event_id"]]
            wait_for(lambda: applied(shop, events), timeout=120, what="the sales applied")
            made = run(shop, "posctl", "backup", "--out", str(tmp_path / "backups"))
            assert made.returncode == 0, made.stderr[-3000:]

        (archive,) = (tmp_path / "backups").glob("pos-backup-*.tar.gz")
        assert archive.stat().st_mode & 0o077 == 0  # it holds password hashes: private
        drop_shop(shop)  # the shop's MySQL database and raw store are gone

        restored = run(shop, "posctl", "restore", str(archive))
        assert restored.returncode == 0, restored.stderr[-3000:]
        twice = run(shop, "posctl", "restore", str(archive))
        assert twice.returncode == 1 and "empty shop only" in twice.stderr

        verified = run(shop, "pos_app.cli", "verify")
        assert verified.returncode == 0, (verified.stdout + verified.stderr)[-3000:]

        engine = make_sync_engine(shop)
        try:
            with engine.connect() as conn:
                lines = set(conn.scalars(select(sales.c.sale_id).distinct()))
                documents = set(conn.scalars(select(sale_documents.c.document_id)))
                people = set(conn.scalars(select(users.c.username)))
        finally:
            engine.dispose()
        assert {s["sale_id"] for s in sold} <= lines
        assert {s["sale_id"] for s in sold} | {back.json()["return_id"]} <= documents
        assert "owner" in people

        damaged = tmp_path / archive.name
        data = bytearray(archive.read_bytes())
        data[len(data) // 2] ^= 0xFF
        damaged.write_bytes(bytes(data))
        damaged.with_name(damaged.name + ".sha256").write_text(
            archive.with_name(archive.name + ".sha256").read_text()
        )
        refused = run(shop, "posctl", "restore", str(damaged))
        assert refused.returncode == 1 and "checksum" in refused.stderr
    finally:
        drop_shop(shop)
