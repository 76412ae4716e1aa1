from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from pos_app.auth.deps import ManagerDep, require_scope
from pos_app.auth.roles import EVENTS_READ
from pos_app.deps import MongoDep, SettingsDep, TransactionDep
from pos_app.events import outbox
from pos_app.pipeline.service import RejectedEvent, rejected_events
from pos_app.problems import AUTHENTICATED, problems
from pos_app.templating import render_page

router = APIRouter(responses=problems(AUTHENTICATED, 422))
Limit = Annotated[int, Query(ge=1, le=1000)]


@router.get(
    "/api/v1/events/rejected",
    response_model=list[RejectedEvent],
    tags=["pipeline"],
    dependencies=[Depends(require_scope(EVENTS_READ))],
)
async def get_rejected_events(
    mongo: MongoDep, settings: SettingsDep, limit: Limit = 100
) -> list[RejectedEvent]:
    """Events the stream job refused, newest first, with the reason and the raw message."""
    return await rejected_events(mongo, settings=settings, limit=limit)


@router.get("/manager/pipeline", response_class=HTMLResponse, include_in_schema=False)
async def pipeline_page(
    request: Request,
    conn: TransactionDep,
    mongo: MongoDep,
    settings: SettingsDep,
    manager: ManagerDep,
) -> HTMLResponse:
    return render_page(
        request,
        "manager_pipeline.html",
        {
            "outbox": await outbox.status(conn),
            "rejected": await rejected_events(mongo, settings=settings, limit=100),
            "principal": manager,
        },
        settings=settings,
    )
