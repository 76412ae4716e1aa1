"""What the report user (`POS_MYSQL_REPORT_USER`, Superset's connection) may read: the
analytics tables only, never people, keys, sessions, the audit log, sign-in throttles,
the outbox or the counter's working state. MySQL and MariaDB grant only on tables that
exist, so the grants follow each migration (`upgrade`): a table added to this list is
readable after the next `posctl db upgrade`, anything else stays unreadable."""

from __future__ import annotations

from sqlalchemy import Table, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError, ProgrammingError

from pos_app.db.engine import make_sync_engine
from pos_app.db.tables import (
    product_monthly_sales,
    product_stores,
    products,
    refill_plan,
    refill_plan_runs,
    sale_payments,
    sale_returns,
    sale_totals,
    sales,
    sales_daily,
    sales_monthly,
    sales_yearly,
    stock_alerts,
    stock_movements,
    stocks,
    stream_batches,
)
from pos_app.settings import Settings

REPORT_TABLES: tuple[Table, ...] = (
    sales,
    sale_returns,
    sale_payments,
    sale_totals,
    sales_daily,
    sales_monthly,
    sales_yearly,
    product_monthly_sales,
    products,
    product_stores,
    stocks,
    stock_movements,
    stock_alerts,
    refill_plan,
    refill_plan_runs,
    stream_batches,
)
# Where the report user may connect from: the local stack makes it at the first two,
# compose at '%'. A host it does not exist at is skipped (never created by GRANT).
REPORT_HOSTS = ("127.0.0.1", "localhost", "%")
_NO_SUCH_USER = {1133, 1410}  # MariaDB: no matching user row; MySQL 8: may not create one
_MAY_NOT_GRANT = {1044, 1142}  # access denied: the app user lacks GRANT OPTION


def grant_report_tables(settings: Settings) -> int:
    """Grant SELECT on each analytics table of this database to the report user, at
    every host it exists at; returns how many hosts. Runs as the app user, which holds
    its database's rights WITH GRANT OPTION."""
    engine = make_sync_engine(settings)
    granted = 0
    try:
        with engine.begin() as conn:
            _never_create_users(conn)
            for host in REPORT_HOSTS:
                if _grant_at(conn, settings, host):
                    granted += 1
    finally:
        engine.dispose()
    return granted


def _never_create_users(conn: Connection) -> None:
    if "mariadb" in str(conn.scalar(text("SELECT VERSION()"))).lower():
        # MariaDB's GRANT would otherwise make a password-less user at a new host.
        conn.execute(text("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_CREATE_USER')"))


def _grant_at(conn: Connection, settings: Settings, host: str) -> bool:
    database = settings.mysql_database.replace("`", "``")
    # An upgrade to an older revision (a test of one migration) has not made them all.
    existing = set(
        conn.scalars(
            text("SELECT table_name FROM information_schema.tables WHERE table_schema = :db"),
            {"db": settings.mysql_database},
        )
    )
    for table in (t for t in REPORT_TABLES if t.name in existing):
        try:
            conn.execute(
                text(f"GRANT SELECT ON `{database}`.`{table.name}` TO :user@:host"),
                {"user": settings.mysql_report_user, "host": host},
            )
        except (OperationalError, ProgrammingError) as error:
            code = error.orig.args[0] if error.orig is not None else None
            if code in _NO_SUCH_USER:
                return False
            if code in _MAY_NOT_GRANT:
                raise RuntimeError(
                    f"{settings.mysql_user} may not grant the report user its tables: "
                    "run `posctl stack up` (it renews the database users' rights), or give "
                    "it GRANT OPTION on its database"
                ) from error
            raise
    return True
