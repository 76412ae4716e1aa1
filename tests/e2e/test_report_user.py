"""The report user (Superset's connection) reads the analytics tables and nothing else:
no password hashes, keys, sessions, audit log, sign-in throttles, outbox or carts."""

from __future__ import annotations

from collections.abc import Iterator

import pymysql
import pytest

from pos_app.settings import Settings
from stack.superset.bundle import DATASETS, Dataset

pytestmark = pytest.mark.stack

PRIVATE = (
    "users",
    "api_keys",
    "login_sessions",
    "login_throttles",
    "audit_log",
    "outbox",
    "idempotency_keys",
    "carts",
    "sale_documents",
    "shifts",
    "cash_movements",
    "alembic_version",
)


@pytest.fixture
def reader(settings: Settings) -> Iterator[pymysql.cursors.Cursor]:
    connection = pymysql.connect(
        host=settings.mysql_host,
        port=settings.mysql_port,
        user=settings.mysql_report_user,
        password=settings.mysql_report_password,
        database=settings.mysql_database,
    )
    with connection, connection.cursor() as cursor:
        yield cursor


@pytest.mark.parametrize("table", PRIVATE)
def test_the_report_user_cannot_read_private_tables(
    reader: pymysql.cursors.Cursor, table: str
) -> None:
    with pytest.raises(pymysql.err.OperationalError, match="command denied"):
        reader.execute(f"SELECT * FROM `{table}` LIMIT 1")


@pytest.mark.parametrize("dataset", DATASETS, ids=[d.key for d in DATASETS])
def test_the_report_user_reads_every_dataset_of_the_dashboards(
    reader: pymysql.cursors.Cursor, dataset: Dataset
) -> None:
    sql = dataset.sql or f"SELECT * FROM {dataset.table}"
    reader.execute(f"SELECT * FROM ({sql}) AS q LIMIT 1")  # as Superset wraps it
    reader.fetchall()


def test_the_report_user_cannot_write(reader: pymysql.cursors.Cursor) -> None:
    with pytest.raises(pymysql.err.OperationalError, match="command denied"):
        reader.execute("DELETE FROM sales WHERE 1 = 0")
