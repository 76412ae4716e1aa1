"""Typed dependencies: the long-lived clients the lifespan opened, handed to routes.

They are `async def` on purpose: FastAPI runs a plain `def` dependency in a worker
thread, a thread hop per dependency and request for what is an attribute lookup."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from pymongo import AsyncMongoClient
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from pos_app.events.relay import OutboxRelay
from pos_app.settings import Settings


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_engine(request: Request) -> AsyncEngine:
    engine: AsyncEngine = request.app.state.engine
    return engine


async def get_connection(
    engine: Annotated[AsyncEngine, Depends(get_engine)],
) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as conn:
        yield conn


async def get_transaction(
    engine: Annotated[AsyncEngine, Depends(get_engine)],
) -> AsyncIterator[AsyncConnection]:
    """One request, one unit of work: commits when the route returns, rolls back if it
    raises. Services take this connection and never commit themselves."""
    async with engine.begin() as conn:
        yield conn


async def get_relay(request: Request) -> OutboxRelay:
    relay: OutboxRelay = request.app.state.relay
    return relay


async def get_mongo(request: Request) -> AsyncMongoClient[dict[str, Any]]:
    client: AsyncMongoClient[dict[str, Any]] = request.app.state.mongo
    return client


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
EngineDep = Annotated[AsyncEngine, Depends(get_engine)]
ConnectionDep = Annotated[AsyncConnection, Depends(get_connection)]
# scope="function": the commit runs when the route returns, before the answer is sent. By
# default FastAPI ends a yield dependency after sending it: a client could be told "done"
# for a write that then failed to commit, or read the old row in its very next request.
TransactionDep = Annotated[AsyncConnection, Depends(get_transaction, scope="function")]
RelayDep = Annotated[OutboxRelay, Depends(get_relay)]
MongoDep = Annotated[AsyncMongoClient[dict[str, Any]], Depends(get_mongo)]
