"""Each request once: its request id (taken or made, echoed in X-Request-ID and bound for
the logs and the outbox), its log line and its metrics, by route template."""

from __future__ import annotations

import logging
import time

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pos_app.observability.logs import REQUEST_ID_HEADER, request_id_for
from pos_app.observability.metrics import LATENCY, REQUESTS
from pos_app.request_context import bind_request_id, reset_request_id

log = logging.getLogger("pos.requests")


def route_template(scope: Scope) -> str:
    """The path as routed ("/api/v1/sales/{sale_id}"), so metrics stay one series per
    route whatever ids clients send; static files and unknown paths are one each."""
    route = scope.get("route")
    if route is not None and hasattr(route, "path"):
        return str(route.path)
    if scope["path"].startswith("/static/"):
        return "/static"
    return "unmatched"


class RequestObservationMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_for(Headers(scope=scope).get(REQUEST_ID_HEADER))
        token = bind_request_id(request_id)
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            method, route = scope["method"], route_template(scope)
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(elapsed)
            log.info(
                "%s %s %s",
                method,
                scope["path"],
                status,
                extra={
                    "method": method,
                    "path": scope["path"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 1),
                },
            )
            reset_request_id(token)
