"""GET /live/events: a server-sent-events stream telling the counter and the Today view
that MySQL has something new, so they fetch their partials at once; their slower poll
stays as the fallback. The event carries no figures: the partials read them, scoped to
this install's store as always."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from pos_app.auth.deps import CashierDep
from pos_app.live.watcher import ChangeWatcher

router = APIRouter()
HEARTBEAT_SECONDS = 15.0  # a comment line, so proxies and browsers keep the stream open
# Sent first: the browser reconnects a second after the stream drops, not its default 3 s.
HELLO = "retry: 1000\n: connected\n\n"
CHANGED = "event: changed\ndata: \n\n"


async def changes(watcher: ChangeWatcher, heartbeat: float) -> AsyncGenerator[str]:
    """The stream's text: `changed` events as the watcher sees changes, heartbeats between,
    ending when the app shuts down (Starlette stops it when the client goes)."""
    waiting = watcher.next_change()
    yield HELLO
    while not watcher.closed:
        try:
            await asyncio.wait_for(waiting.wait(), heartbeat)
        except TimeoutError:
            yield ": keep-alive\n\n"
            continue
        if watcher.closed:
            return
        waiting = watcher.next_change()
        yield CHANGED


@router.get("/live/events", include_in_schema=False)
async def live_events(request: Request, _: CashierDep) -> StreamingResponse:
    """For signed-in people of this store (cashier and up): the pages that listen show
    only this store's figures."""
    watcher: ChangeWatcher = request.app.state.live
    return StreamingResponse(
        changes(watcher, HEARTBEAT_SECONDS),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
