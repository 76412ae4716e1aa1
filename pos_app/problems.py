"""RFC 9457 problem details: the one error format of the REST API (and the health and
metrics endpoints), and `problems(...)`, the `responses=` of a route that documents the
statuses it can answer. The exception handlers in pos_app/errors.py write these bodies."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from http import HTTPStatus
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

PROBLEM_MEDIA_TYPE = "application/problem+json"

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


class FieldError(BaseModel):
    """One field that breaks the schema: where (`loc`, as FastAPI names it: "body",
    "query", ... then the path), what is wrong, and pydantic's error type."""

    loc: list[str | int]
    message: str
    type: str


class Problem(BaseModel):
    """RFC 9457 problem details. `type` is "about:blank": the status and `code` say what
    kind of problem it is, `detail` what happened this time."""

    type: str = "about:blank"
    title: str = Field(description="the HTTP status phrase")
    status: int
    detail: str = Field(description="what went wrong, in a sentence a person can read")
    code: str = Field(description="a word a program can branch on, e.g. not_found, invalid")
    errors: list[FieldError] | None = Field(
        default=None, description="input that breaks the schema, one entry per field"
    )


# What each status means on this API, for the OpenAPI document.
PROBLEM_DESCRIPTIONS = {
    400: "The request cannot be read",
    401: "No API key or sign-in, or the key is unknown or revoked",
    403: "The key or the person lacks the scope this needs",
    404: "No such resource (or store)",
    409: "The request conflicts with what is recorded",
    413: "The body is larger than the API accepts",
    422: "The input breaks the schema (`errors` says where) or a rule of the shop (`detail`)",
    429: "Too many requests; `Retry-After` says when to try again",
    503: "A store the answer needs (MySQL) is down; `Retry-After` says when to try again",
}

# Every route of the API can meet these: no or a wrong key, and MySQL down.
AUTHENTICATED = (401, 403, 503)
# A route that reads a body: one that is not JSON at all, or too large.
WITH_BODY = (400, 413)
# A route that takes a store: one outside the caller's stores is not found.
OTHER_STORE = (404,)


def problems(*codes: int | Iterable[int]) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route: each status it can answer besides success, as a
    problem details body. `problems(AUTHENTICATED, 404, 422)`."""
    flat: set[int] = set()
    for code in codes:
        flat.update([code] if isinstance(code, int) else code)
    return {
        code: {
            "description": PROBLEM_DESCRIPTIONS[code],
            "model": Problem,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for code in sorted(flat)
    }


def problem_response(
    status_code: int,
    detail: str,
    *,
    code: str | None = None,
    errors: Sequence[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = Problem(
        title=HTTPStatus(status_code).phrase,
        status=status_code,
        detail=detail,
        code=code or error_code(status_code),
        errors=list(errors) if errors is not None else None,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status_code,
        headers=headers,
        media_type=PROBLEM_MEDIA_TYPE,
    )
