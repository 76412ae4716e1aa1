"""Typed dependencies: the long-lived clients the lifespan opened, handed to routes.

They are `async def` on purpose: FastAPI runs a plain `def` dependency in a worker
thread, a thread hop per dependency and request for what is an attribute lookup."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from pymongo import AsyncMongoClient
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from pos_app.db.unit_of_work import unit_of_work
from pos_app.events.relay import OutboxRelay
from pos_app.settings import Settings


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_engine(request: Request) -> AsyncEngine:
    engine: AsyncEngine = request.app.state.engine
    return engine


async def get_transaction(
    engine: Annotated[AsyncEngine, Depends(get_engine)],
) -> AsyncIterator[AsyncConnection]:
    """One request, one unit of work: commits when the route returns, rolls back if it
    raises. Services take this connection and never commit themselves.

    Used with `scope="function"` (TransactionDep): the commit runs when the route function
    returns and before the response is sent, so a commit that fails answers 500, never a
    2xx for work that was lost. (The default "request" scope would run it after sending.)
    """
    async with unit_of_work(engine) as conn:
        yield conn


async def get_relay(request: Request) -> OutboxRelay:
    relay: OutboxRelay = request.app.state.relay
    return relay


async def get_mongo(request: Request) -> AsyncMongoClient[dict[str, Any]]:
    client: AsyncMongoClient[dict[str, Any]] = request.app.state.mongo
    return client


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
EngineDep = Annotated[AsyncEngine, Depends(get_engine)]
TransactionDep = Annotated[AsyncConnection, Depends(get_transaction, scope="function")]
RelayDep = Annotated[OutboxRelay, Depends(get_relay)]
MongoDep = Annotated[AsyncMongoClient[dict[str, Any]], Depends(get_mongo)]
