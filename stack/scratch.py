"""A fresh shop beside the real one, for tests and benchmarks: its own MySQL and MongoDB
databases (dropped and made anew) and its own Kafka topics, on the running stack."""

from __future__ import annotations

from pymongo import MongoClient
from sqlalchemy import create_engine, text

from pos_app.catalog.seed import load_catalog_csv
from pos_app.db.migrate import upgrade
from pos_app.events.topics import ensure_topics_sync
from pos_app.settings import REPO_ROOT, Settings


def fresh_shop(settings: Settings) -> None:
    """Reset settings.mysql_database and .mongo_database, migrate, load the demo catalog."""
    name = settings.mysql_database
    # The app user may create databases named <shop database>_*; it connects to the
    # shop's own database (as configured in the environment) to do so.
    admin = create_engine(Settings().mysql_url("pymysql"))
    try:
        with admin.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
            conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    finally:
        admin.dispose()
    mongo: MongoClient[dict[str, object]] = MongoClient(settings.mongo_url)
    with mongo:
        mongo.drop_database(settings.mongo_database)
    upgrade(settings)
    load_catalog_csv(settings, REPO_ROOT / "data" / "demo_catalog.csv")
    ensure_topics_sync(settings)
