"""When a store is down, say so: HTTP 503 with a message, never a stack trace."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pymongo.errors import PyMongoError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from pos_app.i18n import N_, gettext
from pos_app.templating import templates

log = logging.getLogger("pos.errors")

MESSAGES = {
    "mysql": N_("The database (MySQL) is unavailable; nothing was recorded. Try again shortly."),
    "mongodb": N_("The event store (MongoDB) is unavailable. Try again shortly."),
}


# The REST API answers in English with a machine-readable code beside the message, so a
# program can branch on the code and a person can read the message, whatever the language
# of the pages.
API_ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
    503: "unavailable",
}


def error_code(status_code: int) -> str:
    return API_ERROR_CODES.get(status_code, "error")


async def api_http_error(request: Request, error: Exception) -> Response:
    """An HTTPException: on the REST API `{"detail": ..., "code": ...}`; elsewhere as before."""
    if not isinstance(error, StarletteHTTPException) or not request.url.path.startswith("/api/"):
        return await http_exception_handler(request, error)  # type: ignore[arg-type]
    if error.status_code in (204, 304):
        return Response(status_code=error.status_code, headers=error.headers)
    return JSONResponse(
        {"detail": error.detail, "code": error_code(error.status_code)},
        status_code=error.status_code,
        headers=error.headers,
    )


def _unavailable(request: Request, store: str, error: Exception) -> Response:
    log.warning("%s unavailable on %s: %s", store, request.url.path, error)
    message = MESSAGES[store]
    headers = {"Retry-After": "5"}
    if request.url.path.startswith("/api/") or "text/html" not in request.headers.get("accept", ""):
        body = {"detail": message, "code": f"{store}_unavailable"}
        return JSONResponse(body, status_code=503, headers=headers)
    response: HTMLResponse = templates.TemplateResponse(
        request, "_error.html", {"message": gettext(message)}, status_code=503, headers=headers
    )
    return response


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, api_http_error)

    async def mysql_down(request: Request, error: Exception) -> Response:
        return _unavailable(request, "mysql", error)

    async def mongo_down(request: Request, error: Exception) -> Response:
        return _unavailable(request, "mongodb", error)

    for kind in (OperationalError, InterfaceError, PoolTimeout):
        app.add_exception_handler(kind, mysql_down)
    app.add_exception_handler(PyMongoError, mongo_down)
