"""Health for the people and machines that watch the app.

- `GET /health/live`: the process answers (for a supervisor's restart decision).
- `GET /health/ready`: MySQL answers, so the counter can sell (for a load balancer).
  Kafka and MongoDB do not count: with Kafka down the counter still sells (sales wait in
  the outbox), and MongoDB is the stream job's.
- `GET /health`: each dependency's state and the outbox backlog, behind sign-in (a key or
  a login with `events:read`). 503 only when MySQL is down; a missing Kafka or MongoDB is
  "degraded". A failure is named by its kind only ("down: OperationalError"): its text,
  which may name hosts, users and paths, goes to the app's log, never into an answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

from fastapi import APIRouter, Depends, Response, status
from sqlalchemy import text

from pos_app.auth.deps import require_scope
from pos_app.auth.roles import EVENTS_READ
from pos_app.deps import EngineDep, MongoDep, RelayDep
from pos_app.events import outbox
from pos_app.problems import problems

router = APIRouter(tags=["health"])
log = logging.getLogger(__name__)


async def _check(probe: Awaitable[object]) -> str:
    try:
        await asyncio.wait_for(probe, timeout=3)
    except Exception as error:  # any failure is a state to report, not to raise
        return _down(error)
    return "ok"


def _down(error: Exception) -> str:
    log.warning("health check failed: %s: %s", error.__class__.__name__, error)
    return f"down: {error.__class__.__name__}"


async def _mysql(engine: EngineDep) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def _outbox(engine: EngineDep) -> dict[str, object]:
    try:
        async with engine.connect() as conn:
            return (await outbox.status(conn)).model_dump()
    except Exception as error:
        return {"error": _down(error)}


@router.get("/health/live")
async def live() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/health/ready", responses={503: {"description": "MySQL does not answer"}})
async def ready(response: Response, engine: EngineDep) -> dict[str, str]:
    if await _check(_mysql(engine)) != "ok":
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return {"status": "not ready"}
    return {"status": "ready"}


@router.get(
    "/health",
    dependencies=[Depends(require_scope(EVENTS_READ))],
    responses={**problems(401, 403), 503: {"description": "MySQL does not answer"}},
)
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
    if mysql != "ok":
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    healthy = all(state == "ok" for state in checks.values())
    return {"status": "ok" if healthy else "degraded", "checks": checks, "outbox": pending}
