"""Errors, one format for the REST API and the people's pages' own error pages.

The REST API (and the health and metrics endpoints) answers every error as RFC 9457
problem details (`application/problem+json`): `type`, `title`, `status`, `detail` (the
sentence a person reads, in English), `code` (a word a program branches on) and, for input
that breaks the schema, `errors` (one per field). The handlers below are the only place
that writes them; each route documents the codes it can answer with `problems(...)`.
Pages keep their HTML error pages. A store that is down is a 503 with a message, never a
stack trace."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from pymongo.errors import PyMongoError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from pos_app.i18n import N_, gettext
from pos_app.problems import FieldError, problem_response
from pos_app.templating import templates

log = logging.getLogger("pos.errors")

MESSAGES = {
    "mysql": N_("The database (MySQL) is unavailable; nothing was recorded. Try again shortly."),
    "mongodb": N_("The event store (MongoDB) is unavailable. Try again shortly."),
}


def is_api(request: Request) -> bool:
    """The REST API and the machine endpoints answer problem details; pages do not."""
    path = request.url.path
    return path.startswith(("/api/", "/health", "/metrics"))


def allowed_methods(request: Request) -> list[str]:
    """The methods the API documents at this path (Starlette's own 405 names only the first
    route that matched the path, e.g. GET but not POST)."""
    paths: dict[str, dict[str, Any]] = request.app.openapi()["paths"]
    for template, operations in paths.items():
        if compile_path(template)[0].match(request.url.path):
            return sorted(method.upper() for method in operations)
    return []


async def api_http_error(request: Request, error: Exception) -> Response:
    """An HTTPException: problem details on the API; elsewhere as before."""
    if not isinstance(error, StarletteHTTPException) or not is_api(request):
        return await http_exception_handler(request, error)  # type: ignore[arg-type]
    if error.status_code in (204, 304):
        return Response(status_code=error.status_code, headers=error.headers)
    headers = dict(error.headers or {})
    if error.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request))
    return problem_response(error.status_code, str(error.detail), headers=headers)


def field_errors(error: RequestValidationError) -> list[FieldError]:
    return [
        FieldError(loc=list(item["loc"]), message=item["msg"], type=item["type"])
        for item in error.errors()
    ]


async def api_validation_error(request: Request, error: Exception) -> Response:
    """Input that breaks the schema: 422 with one entry per field, and a sentence."""
    assert isinstance(error, RequestValidationError)
    if not is_api(request):
        return await request_validation_exception_handler(request, error)
    errors = field_errors(error)
    detail = "; ".join(
        f"{'.'.join(str(part) for part in item.loc)}: {item.message}" for item in errors
    )
    return problem_response(422, detail or "invalid input", errors=errors)


def _unavailable(request: Request, store: str, error: Exception) -> Response:
    log.warning("%s unavailable on %s: %s", store, request.url.path, error)
    message = MESSAGES[store]
    headers = {"Retry-After": "5"}
    if is_api(request) or "text/html" not in request.headers.get("accept", ""):
        return problem_response(503, message, code=f"{store}_unavailable", headers=headers)
    response: HTMLResponse = templates.TemplateResponse(
        request, "_error.html", {"message": gettext(message)}, status_code=503, headers=headers
    )
    return response


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, api_http_error)
    app.add_exception_handler(RequestValidationError, api_validation_error)

    async def mysql_down(request: Request, error: Exception) -> Response:
        return _unavailable(request, "mysql", error)

    async def mongo_down(request: Request, error: Exception) -> Response:
        return _unavailable(request, "mongodb", error)

    for kind in (OperationalError, InterfaceError, PoolTimeout):
        app.add_exception_handler(kind, mysql_down)
    app.add_exception_handler(PyMongoError, mongo_down)
