"""Jinja2 templates with the shop's formatting filters."""

from __future__ import annotations

import re
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from pos_app.money import kyat
from pos_app.security import csrf
from pos_app.settings import REPO_ROOT, Settings


def dom_id(text: str) -> str:
    """A string (a SKU) as a safe HTML id part: anything but letters, digits, - and _ -> _."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", text)


def age(seconds: float | None) -> str:
    """12.3 -> '12 s', 150 -> '2 min 30 s', 7300 -> '2 h 1 min'; None -> 'never'."""
    if seconds is None:
        return "never"
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"


def nav_links(request: Request) -> list[tuple[str, str]]:
    """(href, label) of the pages the signed-in person may open (`require_role` lists
    them for this page's role); none when signed out."""
    links: list[tuple[str, str]] = getattr(request.state, "nav_links", [])
    return links


_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(REPO_ROOT / "templates"),
    autoescape=True,
    extensions=["jinja2.ext.i18n"],
)
# Strings in templates are wrapped in _() for translation.
_environment.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
templates = Jinja2Templates(env=_environment)
templates.env.globals["nav_links"] = nav_links
templates.env.filters["kyat"] = kyat
templates.env.filters["dom_id"] = dom_id
templates.env.filters["age"] = age


def render_page(
    request: Request, name: str, context: dict[str, Any], *, settings: Settings
) -> HTMLResponse:
    """A full page: its forms carry a CSRF token, whose cookie is set if missing."""
    token, fresh_nonce = csrf.page_token(request, settings.secret_key)
    response = templates.TemplateResponse(
        request, name, {**context, "settings": settings, "csrf_token": token}
    )
    if fresh_nonce:
        csrf.set_cookie(request, response, fresh_nonce)
    return response
