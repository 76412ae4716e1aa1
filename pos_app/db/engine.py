"""Database engines: async (asyncmy) for the app, sync (PyMySQL) for the CLI and jobs."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from pos_app.settings import Settings


def make_async_engine(settings: Settings) -> AsyncEngine:
    return create_async_engine(
        settings.mysql_url("asyncmy"), pool_pre_ping=True, pool_recycle=1800, pool_size=10
    )


def make_sync_engine(settings: Settings) -> Engine:
    return create_engine(settings.mysql_url("pymysql"), pool_pre_ping=True, pool_recycle=1800)
