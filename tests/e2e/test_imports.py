"""`posctl import kaggle` on files as people have them: a file that cannot be read stops
the import before anything is written or published, or is skipped and named when asked;
one store's imported products stay at that store's counter."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import func, select

from pos_app.auth.cli import create_api_key_sync, create_user_sync
from pos_app.db.engine import make_sync_engine
from pos_app.db.tables import products
from pos_app.settings import REPO_ROOT, Settings
from tests.stack_support import log_in, running_app, scratch_shop

pytestmark = pytest.mark.stack

HEADER = "Order ID,Product,Quantity Ordered,Price Each,Order Date,Purchase Address\n"
JANUARY = (
    HEADER
    + '141234,iPhone,1,700,01/22/19 21:25,"944 Walnut St, Boston, MA 02215"\n'
    + '141235,Wired Headphones,2,11.99,01/31/19 23:59,"1 Main St, Dallas, TX 75001"\n'
)
FOREIGN = "Date,Item,Amount\n2019-02-01,iPhone,700\n"


@pytest.fixture(scope="module")
def shop(settings: Settings) -> Settings:
    return scratch_shop(settings, "imports")


def run_import(shop: Settings, folder: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pos_app.cli", "import", "kaggle", str(folder), "--max", *flags],
        env={**os.environ, **shop.as_env()},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def published(shop: Settings) -> int:
    """Records on the shop's sales topic."""

    async def count() -> int:
        consumer = AIOKafkaConsumer(bootstrap_servers=shop.kafka_bootstrap_servers)
        await consumer.start()
        try:
            partitions = [
                TopicPartition(shop.sales_topic, p) for p in range(shop.kafka_sales_partitions)
            ]
            return sum((await consumer.end_offsets(partitions)).values())
        finally:
            await consumer.stop()

    return asyncio.run(count())


def catalog_size(shop: Settings) -> int:
    engine = make_sync_engine(shop)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(products)) or 0)
    finally:
        engine.dispose()


def test_a_foreign_file_stops_the_import_unless_skipped(shop: Settings, tmp_path: Path) -> None:
    (tmp_path / "Sales_January_2019.csv").write_text(JANUARY)
    (tmp_path / "Sales_February_2019.csv").write_text(FOREIGN)
    products_before, published_before = catalog_size(shop), published(shop)

    refused = run_import(shop, tmp_path, "--store", "imports-a")
    assert refused.returncode != 0
    assert "Sales_February_2019.csv line 1: not the Kaggle header" in refused.stderr
    assert "nothing imported" in refused.stderr
    assert (catalog_size(shop), published(shop)) == (products_before, published_before)

    skipped = run_import(shop, tmp_path, "--store", "imports-a", "--skip-bad-files")
    assert skipped.returncode == 0, skipped.stderr
    assert "file not imported: Sales_February_2019.csv" in skipped.stderr
    assert "Sales_January_2019.csv: 2 rows read, 2 kept" in skipped.stdout
    assert "files: 1 read, 1 skipped" in skipped.stdout
    assert published(shop) == published_before + 2  # the two orders of January
    assert catalog_size(shop) == products_before + 2


def test_a_file_with_a_bom_and_crlf_is_imported(shop: Settings, tmp_path: Path) -> None:
    (tmp_path / "Sales_January_2019.csv").write_bytes(
        b"\xef\xbb\xbf" + JANUARY.replace("\n", "\r\n").encode()
    )
    before = published(shop)
    result = run_import(shop, tmp_path, "--store", "imports-bom")
    assert result.returncode == 0, result.stderr
    assert "Sales_January_2019.csv (read as utf-8 with BOM): 2 rows read, 2 kept" in result.stdout
    assert published(shop) == before + 2


def test_one_stores_import_stays_at_that_store(
    shop: Settings, tmp_path: Path, logs_dir: Path
) -> None:
    (tmp_path / "Sales_January_2019.csv").write_text(JANUARY)
    result = run_import(shop, tmp_path, "--store", "kaggle-2019")
    assert result.returncode == 0, result.stderr
    both = [shop.store_id, "kaggle-2019"]
    create_user_sync(
        shop, username="cashier", password="imports-cashier-pw", role="cashier", stores=both
    )
    key = create_api_key_sync(shop, name="imports test", scopes=["catalog:read"], stores=both)
    headers = {"Authorization": f"Bearer {key}"}

    with running_app(shop, logs_dir) as url, httpx.Client(base_url=url, timeout=15) as client:
        token = log_in(client, "cashier", "imports-cashier-pw")
        counter = client.get("/")
        assert counter.status_code == 200
        assert "Longyi Cotton Check Blue" in counter.text  # the longyi shop's own catalogue
        assert "iPhone" not in counter.text and "Wired Headphones" not in counter.text
        for code in ("IPHONE", "iPhone"):  # a typed SKU, a name search
            scan = client.post("/counter/scan", data={"code": code, "csrf_token": token})
            assert re.search(r"unknown barcode or SKU", scan.text), scan.text[:500]
        own = client.get("/api/v1/products", params={"store": shop.store_id}, headers=headers)
        other = client.get("/api/v1/products", params={"store": "kaggle-2019"}, headers=headers)
    assert own.status_code == other.status_code == 200
    assert not {"IPHONE", "WIRED-HEADPHONES"} & {p["sku"] for p in own.json()}
    assert {p["sku"] for p in other.json()} == {"IPHONE", "WIRED-HEADPHONES"}

    kaggle_store = shop.model_copy(update={"store_id": "kaggle-2019"})
    with (
        running_app(kaggle_store, logs_dir) as url,
        httpx.Client(base_url=url, timeout=15) as client,
    ):
        log_in(client, "cashier", "imports-cashier-pw")
        counter = client.get("/")
        assert "iPhone" in counter.text and "Longyi Cotton" not in counter.text


def test_existing_shops_keep_their_products_at_their_stores(settings: Settings) -> None:
    """Migration 0010: a product stays at each store that stocks it; one that no store
    stocks yet stays at every store."""
    from sqlalchemy import create_engine, text

    from pos_app.db.migrate import upgrade

    shop = settings.model_copy(update={"mysql_database": f"{Settings().mysql_database}_m0010"})
    admin = create_engine(Settings().mysql_url("pymysql"))
    with admin.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{shop.mysql_database}`"))
        conn.execute(text(f"CREATE DATABASE `{shop.mysql_database}` CHARACTER SET utf8mb4"))
    admin.dispose()
    upgrade(shop, "0009")
    engine = make_sync_engine(shop)
    try:
        with engine.begin() as conn:
            for sku in ("LONGYI", "IPHONE", "NEW"):
                conn.execute(
                    text(
                        "INSERT INTO products (sku, name, category, unit_price) "
                        "VALUES (:sku, :sku, 'x', 1000)"
                    ),
                    {"sku": sku},
                )
            for store, sku in (("yangon-1", "LONGYI"), ("kaggle-2019", "IPHONE")):
                conn.execute(
                    text(
                        "INSERT INTO stocks (store_id, sku, stock_quantity, on_hand) "
                        "VALUES (:store, :sku, 5, 5)"
                    ),
                    {"store": store, "sku": sku},
                )
        upgrade(shop)
        with engine.connect() as conn:
            found = set(conn.execute(text("SELECT store_id, sku FROM product_stores")).all())
        assert found == {
            ("yangon-1", "LONGYI"),
            ("kaggle-2019", "IPHONE"),
            ("yangon-1", "NEW"),
            ("kaggle-2019", "NEW"),
        }
        with engine.begin() as conn:
            conn.execute(text(f"DROP DATABASE `{shop.mysql_database}`"))
    finally:
        engine.dispose()
