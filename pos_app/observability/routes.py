"""GET /metrics: the Prometheus text format, for a key or a sign-in with events:read (as
the detailed /health: the figures show how busy the shop is)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST

from pos_app.auth.deps import require_scope
from pos_app.auth.roles import EVENTS_READ
from pos_app.deps import TransactionDep
from pos_app.observability.metrics import exposition, pipeline_snapshot

router = APIRouter()


@router.get("/metrics", include_in_schema=False, dependencies=[Depends(require_scope(EVENTS_READ))])
async def metrics(conn: TransactionDep) -> Response:
    snapshot = await pipeline_snapshot(conn)
    return Response(exposition(snapshot), media_type=CONTENT_TYPE_LATEST)
