"""Run the Alembic migrations in migrations/ against the configured database."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from pos_app.db.report_grants import grant_report_tables
from pos_app.settings import REPO_ROOT, Settings


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(REPO_ROOT / "migrations"))
    # '%' must be doubled for configparser interpolation.
    config.set_main_option("sqlalchemy.url", settings.mysql_url("pymysql").replace("%", "%%"))
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    command.upgrade(alembic_config(settings), revision)
    grant_report_tables(settings)  # on the tables the migrations may just have made
