"""The seed study's Kaggle year through the real pipeline: `posctl import kaggle` into a
store of its own, then the MySQL tables and the report API give the reference figures
of the data set's README exactly, and importing again changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pymongo import MongoClient
from sqlalchemy import func, select

from pos_app.auth.cli import create_api_key_sync
from pos_app.contract import RAW_EVENTS_COLLECTION
from pos_app.db.engine import make_sync_engine
from pos_app.db.tables import sales, stream_batches
from pos_app.settings import REPO_ROOT, Settings
from stack.scratch import fresh_shop
from stream_jobs.sinks import stored_count
from tests.stack_support import ChildProcess, free_port, wait_for

pytestmark = pytest.mark.stack

KAGGLE = REPO_ROOT.parent / "shared" / "datasets" / "kaggle-sales-2019"
STORE = "kaggle-2019"
LINES, SALES = 185_686, 178_437


@pytest.fixture(scope="module")
def kaggle_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Its own databases, topics and stream job (full-size micro-batches)."""
    if not KAGGLE.is_dir():
        pytest.fail(f"the Kaggle data set is missing: {KAGGLE}")
    settings = Settings().model_copy(
        update={
            "mysql_database": "pos_test_kaggle",
            "mongo_database": "pos_test_kaggle",
            "kafka_topic_prefix": f"test-kaggle-{uuid.uuid4().hex[:8]}",
            "stream_checkpoint_dir": str(tmp_path_factory.mktemp("kaggle-checkpoints")),
            "store_id": STORE,
        }
    )
    fresh_shop(settings)
    logs = tmp_path_factory.mktemp("kaggle-logs")
    job = ChildProcess(
        "stream", [sys.executable, "-m", "pos_app.cli", "stream"], settings.as_env(), logs
    )
    job.start()
    job.wait_log("stream job running", timeout=120)
    yield settings
    job.kill()


def import_kaggle(settings: Settings) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pos_app.cli",
            "import",
            "kaggle",
            str(KAGGLE),
            "--stock",
            str(KAGGLE / "Stock_Quantity.csv"),
            "--store",
            STORE,
            "--max",
        ],
        env={**os.environ, **settings.as_env()},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def stored_lines(settings: Settings) -> int:
    engine = make_sync_engine(settings)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(sales)) or 0)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def imported(kaggle_shop: Settings) -> subprocess.CompletedProcess[str]:
    result = import_kaggle(kaggle_shop)
    wait_for(lambda: stored_lines(kaggle_shop) == LINES, timeout=900, what="every Kaggle line")
    return result


@pytest.fixture(scope="module")
def report_api(kaggle_shop: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    port = free_port()
    app = ChildProcess(
        "app",
        [sys.executable, "-m", "pos_app.cli", "serve", "--port", str(port)],
        kaggle_shop.as_env(),
        tmp_path_factory.mktemp("kaggle-app"),
    )
    app.start()
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{url}/health/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(up, timeout=60, what="the app")
    key = create_api_key_sync(kaggle_shop, name="kaggle test", scopes=["reports:read"])

    def summary() -> dict[str, Any]:
        response = httpx.get(
            f"{url}/api/v1/reports/summary",
            params={"store_id": STORE},
            headers={"Authorization": f"Bearer {key}"},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    yield summary
    app.kill()


def check_reference_figures(summary: dict[str, Any]) -> None:
    totals = summary["totals"]
    assert (totals["lines"], totals["sales"], totals["units"]) == (LINES, SALES, 208_812)
    assert Decimal(totals["revenue"]) == Decimal("34465537.94")
    years = {y["year"]: Decimal(y["revenue"]) for y in summary["by_year"]}
    assert years == {2019: Decimal("34456867.65"), 2020: Decimal("8670.29")}
    months = {(m["year"], m["month"]): Decimal(m["revenue"]) for m in summary["by_month"]}
    assert months[(2019, 12)] == Decimal("4608295.70") == max(months.values())
    best = summary["top_by_revenue"][0]
    assert (best["product"], Decimal(best["revenue"])) == (
        "Macbook Pro Laptop",
        Decimal("8032500.00"),
    )
    most = summary["top_by_units"][0]
    assert (most["product"], most["units"]) == ("AAA Batteries (4-pack)", 30_986)


def test_the_import_reports_what_it_read_and_dropped(
    imported: subprocess.CompletedProcess[str],
) -> None:
    out = imported.stdout
    assert "files: 12 read, 0 skipped; rows read: 186,850" in out
    assert "dropped, empty row: 545" in out
    assert "dropped, repeated header: 355" in out
    assert "dropped, exact duplicate: 264" in out
    assert f"sales: {SALES:,}, lines: {LINES:,}" in out


def test_the_year_gives_the_reference_figures_exactly(
    kaggle_shop: Settings, imported: Any, report_api: Any
) -> None:
    check_reference_figures(report_api())
    with MongoClient(kaggle_shop.mongo_url) as client:
        raw_store = client[kaggle_shop.mongo_database]
        wait_for(
            # From the collection's stats: FerretDB counts documents by reading each one.
            lambda: stored_count(raw_store, RAW_EVENTS_COLLECTION) == SALES,
            timeout=300,  # FerretDB stores ~178k documents: minutes on a busy machine
            what="one raw event per sale in MongoDB",
        )


def test_importing_again_changes_nothing(
    kaggle_shop: Settings, imported: Any, report_api: Any
) -> None:
    before = report_api()
    engine = make_sync_engine(kaggle_shop)

    def duplicates_seen() -> int:
        with engine.connect() as conn:
            query = select(func.sum(stream_batches.c.events_duplicate))
            return int(conn.scalar(query) or 0)

    import_kaggle(kaggle_shop)
    wait_for(
        lambda: duplicates_seen() >= SALES,
        timeout=600,
        what="the stream job to see every event again",
    )
    engine.dispose()
    assert report_api() == before
    check_reference_figures(before)
