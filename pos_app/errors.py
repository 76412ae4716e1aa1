"""When a store is down, say so: HTTP 503 with a message, never a stack trace."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pymongo.errors import PyMongoError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from pos_app.i18n import N_, gettext
from pos_app.templating import templates

log = logging.getLogger("pos.errors")

MESSAGES = {
    "mysql": N_("The database (MySQL) is unavailable; nothing was recorded. Try again shortly."),
    "mongodb": N_("The event store (MongoDB) is unavailable. Try again shortly."),
}


def _unavailable(request: Request, store: str, error: Exception) -> Response:
    log.warning("%s unavailable on %s: %s", store, request.url.path, error)
    message = MESSAGES[store]
    headers = {"Retry-After": "5"}
    if request.url.path.startswith("/api/") or "text/html" not in request.headers.get("accept", ""):
        return JSONResponse({"detail": message}, status_code=503, headers=headers)
    response: HTMLResponse = templates.TemplateResponse(
        request, "_error.html", {"message": gettext(message)}, status_code=503, headers=headers
    )
    return response


def install_error_handlers(app: FastAPI) -> None:
    async def mysql_down(request: Request, error: Exception) -> Response:
        return _unavailable(request, "mysql", error)

    async def mongo_down(request: Request, error: Exception) -> Response:
        return _unavailable(request, "mongodb", error)

    for kind in (OperationalError, InterfaceError, PoolTimeout):
        app.add_exception_handler(kind, mysql_down)
    app.add_exception_handler(PyMongoError, mongo_down)
