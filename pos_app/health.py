"""GET /health: the state of each dependency and of the outbox.

200 when every dependency answers, 503 otherwise. With Kafka down the counter still
sells (sales wait in the outbox), so the body says how many wait and for how long."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from fastapi import APIRouter, Response, status
from sqlalchemy import text

from pos_app.deps import EngineDep, MongoDep, RelayDep
from pos_app.events import outbox

router = APIRouter(tags=["health"])


async def _check(probe: Awaitable[object]) -> str:
    try:
        await asyncio.wait_for(probe, timeout=3)
    except Exception as error:  # any failure is a state to report, not to raise
        return f"down: {error.__class__.__name__}: {error}".strip()
    return "ok"


async def _mysql(engine: EngineDep) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def _outbox(engine: EngineDep) -> dict[str, object]:
    try:
        async with engine.connect() as conn:
            return (await outbox.status(conn)).model_dump()
    except Exception as error:
        return {"error": f"{error.__class__.__name__}: {error}"}


@router.get("/health")
async def health(
    response: Response, engine: EngineDep, relay: RelayDep, mongo: MongoDep
) -> dict[str, object]:
    mysql, kafka, mongodb, pending = await asyncio.gather(
        _check(_mysql(engine)),
        _check(relay.ping()),
        _check(mongo.admin.command("ping")),
        _outbox(engine),
    )
    checks = {"mysql": mysql, "kafka": kafka, "mongodb": mongodb}
    healthy = all(state == "ok" for state in checks.values())
    if not healthy:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return {"status": "ok" if healthy else "degraded", "checks": checks, "outbox": pending}
