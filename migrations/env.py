"""Alembic environment: the URL comes from pos_app settings (see pos_app/db/migrate.py)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

# Imported for their side effect: they register their tables on `metadata`.
import pos_app.auth.tables
import pos_app.till.tables  # noqa: F401
from pos_app.db.tables import metadata

config = context.config
if not config.get_main_option("sqlalchemy.url"):
    from pos_app.settings import get_settings

    config.set_main_option("sqlalchemy.url", get_settings().mysql_url("pymysql").replace("%", "%%"))


def run_migrations() -> None:
    engine = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
