"""The people's pages in the shop's languages: English and Burmese (`my`).

Catalogs are the `.po` files under `locales/`, read and compiled in memory at import, so
nothing generated is committed and no build step runs. The language is per request: the
signed-in person's setting, else the browser's Accept-Language, else the shop's. The Jinja
environment is shared by every request, so `_`/`ngettext` in templates read the language
from the request in the template context; Python code calls `gettext`/`ngettext`, which read
it from the request being served (`LocaleMiddleware`). REST answers are never translated.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from functools import cache
from gettext import NullTranslations
from pathlib import Path
from typing import Any

from babel import Locale, negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"
# Code -> the language's own name, as the language menu shows it.
LANGUAGES = {"en": "English", "my": "မြန်မာ"}
DEFAULT_LOCALE = "en"
API_PREFIX = "/api/"  # REST answers are for programs: always English

# The request's state (a dict shared by every Request object of one ASGI scope): its
# "locale" is set from the headers first, then from the signed-in person's setting.
_request_state: ContextVar[dict[str, Any] | None] = ContextVar("pos_request_state", default=None)


def catalog_path(locale: str) -> Path:
    return LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(locale: str) -> NullTranslations:
    """The compiled catalog of `locale` (read once per process); unknown -> identity."""
    path = catalog_path(locale)
    if locale not in LANGUAGES or not path.exists():
        return NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=locale)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(fp=compiled, domain=DOMAIN)


def supported(locale: str | None) -> str | None:
    """'my-MM', 'my_MM' or 'MY' -> 'my'; a language we have no catalog for -> None."""
    if not locale:
        return None
    language = locale.replace("_", "-").split("-")[0].lower()
    return language if language in LANGUAGES else None


def from_accept_language(header: str | None, default: str) -> str:
    """The browser's best language among ours (q-values honoured), else `default`."""
    wanted: list[tuple[float, str]] = []
    for position, part in enumerate((header or "").split(",")):
        tag, _sep, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            wanted.append((-quality + position * 1e-6, tag.strip()))
    preferred = [tag.replace("-", "_") for _rank, tag in sorted(wanted)]
    best = negotiate_locale(preferred, list(LANGUAGES), sep="_") if preferred else None
    return supported(best) or default


def current_locale() -> str:
    """The language of the request being served; English outside a request (CLI, jobs)."""
    state = _request_state.get()
    return (state or {}).get("locale") or DEFAULT_LOCALE


def set_request_locale(state: dict[str, Any], locale: str | None) -> None:
    """The signed-in person's language wins over the browser's for the rest of the request
    (not on the REST API, whose messages stay English for the programs that read them)."""
    if (chosen := supported(locale)) and not state.get("api"):
        state["locale"] = chosen


def gettext(message: str, **variables: Any) -> str:
    """`message` in the current request's language, with `%(name)s` variables filled in."""
    text = translations(current_locale()).gettext(message)
    return text % variables if variables else text


# The short name other modules may import (`from pos_app.i18n import _`); extraction knows it.
_ = gettext


def ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
    text = translations(current_locale()).ngettext(singular, plural, n)
    return text % {"num": n, **variables}


def N_(message: str) -> str:
    """Marks a message for extraction where it is defined; it is translated where shown."""
    return message


def locale_name(locale: str) -> Locale:
    return Locale.parse(locale)


class LocaleMiddleware:
    """Gives each request its language from Accept-Language (or the shop's), and makes the
    request's state reachable by `gettext` for messages made in Python."""

    def __init__(self, app: ASGIApp, *, default_locale: str = DEFAULT_LOCALE) -> None:
        self.app = app
        self.default_locale = supported(default_locale) or DEFAULT_LOCALE

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["api"] = scope["path"].startswith(API_PREFIX)
        state["locale"] = (
            DEFAULT_LOCALE
            if state["api"]
            else from_accept_language(
                Headers(scope=scope).get("accept-language"), self.default_locale
            )
        )
        token = _request_state.set(state)
        try:
            await self.app(scope, receive, send)
        finally:
            _request_state.reset(token)
