"""GET /health: the state of each dependency, 200 when all answer, 503 otherwise."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from fastapi import APIRouter, Response, status
from sqlalchemy import text

from pos_app.deps import EngineDep, MongoDep, PublisherDep

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


@router.get("/health")
async def health(
    response: Response, engine: EngineDep, publisher: PublisherDep, mongo: MongoDep
) -> dict[str, object]:
    mysql, kafka, mongodb = await asyncio.gather(
        _check(_mysql(engine)), _check(publisher.ping()), _check(mongo.admin.command("ping"))
    )
    checks = {"mysql": mysql, "kafka": kafka, "mongodb": mongodb}
    healthy = all(state == "ok" for state in checks.values())
    if not healthy:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return {"status": "ok" if healthy else "degraded", "checks": checks}
