"""CSRF protection for browser forms: a signed double-submit token.

The page sets a random nonce in an HttpOnly, SameSite=Strict cookie and embeds
`nonce.signature` in its forms (and htmx's X-CSRF-Token header). A form post is
accepted only when the token's signature is ours and its nonce is the cookie's.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import HTTPException, Request, Response, status

COOKIE = "pos_csrf"
HEADER = "X-CSRF-Token"
FIELD = "csrf_token"


def _sign(secret: str, nonce: str) -> str:
    return hmac.new(secret.encode(), nonce.encode(), hashlib.sha256).hexdigest()


def page_token(request: Request, secret: str) -> tuple[str, str | None]:
    """The token for a page's forms, and the nonce to set as cookie if the browser has none."""
    nonce = request.cookies.get(COOKIE, "")
    fresh = None
    if len(nonce) != 32:
        nonce = fresh = secrets.token_hex(16)
    return f"{nonce}.{_sign(secret, nonce)}", fresh


def set_cookie(request: Request, response: Response, nonce: str) -> None:
    response.set_cookie(
        COOKIE, nonce, httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )


async def require_token(request: Request, secret: str) -> None:
    token = request.headers.get(HEADER)
    if token is None:
        form = await request.form()
        value = form.get(FIELD)
        token = value if isinstance(value, str) else None
    nonce = request.cookies.get(COOKIE, "")
    expected = f"{nonce}.{_sign(secret, nonce)}"
    if not token or not nonce or not hmac.compare_digest(token, expected):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="missing or invalid CSRF token")
