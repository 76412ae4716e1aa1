"""CSRF protection for browser forms: a signed double-submit token, bound to the session.

The page sets a random nonce in an HttpOnly, SameSite=Strict cookie and embeds
`nonce.signature` in its forms (and htmx's X-CSRF-Token header); the signature covers
the nonce and the session cookie. A form post is accepted only when the token's
signature is ours for the nonce in the cookie and the session the browser sends now, so
a token taken from one session (or from before sign-in) is worth nothing in another.
Signing in and out draws a new nonce. Over https the cookie is `__Host-` prefixed: only
this host, over TLS, on every path, can set it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import HTTPException, Request, Response, status

SESSION_COOKIE = "pos_session"
HEADER = "X-CSRF-Token"
FIELD = "csrf_token"


def cookies_secure(request: Request) -> bool:
    """Whether cookies go out with the Secure flag: POS_SECURE_COOKIES, by default on in
    production (the TLS proxy's scheme may not reach the app) and else over https."""
    settings = request.app.state.settings
    if settings.secure_cookies is not None:
        return bool(settings.secure_cookies)
    return settings.environment == "production" or request.url.scheme == "https"


def cookie_name(request: Request) -> str:
    return "__Host-pos_csrf" if cookies_secure(request) else "pos_csrf"


def _sign(secret: str, nonce: str, session: str) -> str:
    message = f"{nonce}|{session}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _expected(request: Request, secret: str, nonce: str) -> str:
    return f"{nonce}.{_sign(secret, nonce, request.cookies.get(SESSION_COOKIE, ''))}"


def page_token(request: Request, secret: str) -> tuple[str, str | None]:
    """The token for a page's forms, and the nonce to set as cookie if the browser has none."""
    nonce = request.cookies.get(cookie_name(request), "")
    fresh = None
    if len(nonce) != 32:
        nonce = fresh = secrets.token_hex(16)
    return _expected(request, secret, nonce), fresh


def set_cookie(request: Request, response: Response, nonce: str) -> None:
    response.set_cookie(
        cookie_name(request),
        nonce,
        httponly=True,
        samesite="strict",
        secure=cookies_secure(request),
        path="/",
    )


def rotate(request: Request, response: Response) -> None:
    """A new nonce: at sign-in and sign-out, so no token of the session before survives."""
    set_cookie(request, response, secrets.token_hex(16))


async def require_token(request: Request, secret: str) -> None:
    token = request.headers.get(HEADER)
    if token is None:
        form = await request.form()
        value = form.get(FIELD)
        token = value if isinstance(value, str) else None
    nonce = request.cookies.get(cookie_name(request), "")
    if (
        not token
        or len(nonce) != 32
        or not hmac.compare_digest(token, _expected(request, secret, nonce))
    ):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="missing or invalid CSRF token")
