"""Jinja2 templates with the shop's formatting filters."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from pos_app import i18n
from pos_app.i18n import N_, formatting, zawgyi
from pos_app.i18n.plan_text import plan_reason
from pos_app.security import csrf
from pos_app.settings import REPO_ROOT, Settings, get_settings


def _request(context: Any) -> Request | None:
    request = context.get("request")
    return request if isinstance(request, Request) else None


def page_locale(context: Any) -> str:
    """The language this page is written in: the request's (see pos_app.i18n)."""
    request = _request(context)
    locale = getattr(request.state, "locale", None) if request is not None else None
    return locale or i18n.DEFAULT_LOCALE


def _settings(context: Any) -> Settings:
    settings = context.get("settings")
    if isinstance(settings, Settings):
        return settings
    request = _request(context)
    app_settings = getattr(request.app.state, "settings", None) if request is not None else None
    return app_settings if isinstance(app_settings, Settings) else get_settings()


@jinja2.pass_context
def _gettext(context: Any, message: str) -> str:
    return i18n.translations(page_locale(context)).gettext(message)


@jinja2.pass_context
def _ngettext(context: Any, singular: str, plural: str, n: int) -> str:
    return i18n.translations(page_locale(context)).ngettext(singular, plural, n)


@jinja2.pass_context
def _pgettext(context: Any, message_context: str, message: str) -> str:
    """A short word that reads differently by where it stands ("To" a supplier, "To" a
    date): its context tells the translator which."""
    return i18n.translations(page_locale(context)).pgettext(message_context, message)


@jinja2.pass_context
def _kyat_filter(context: Any, amount: Decimal | int | str, *, report: bool = False) -> str:
    settings = _settings(context)
    lakh = report and settings.report_amounts_in_lakh
    return formatting.kyat(amount, page_locale(context), settings.shop_digits, lakh=lakh)


@jinja2.pass_context
def _number_filter(context: Any, value: int | Decimal | float | str) -> str:
    """Grouped thousands in the reader's digits; text is given the same digits."""
    locale, shop_digits = page_locale(context), _settings(context).shop_digits
    if isinstance(value, str):
        return formatting.digits(value, locale, shop_digits)
    return formatting.number(value, locale, shop_digits)


@jinja2.pass_context
def _date_filter(context: Any, value: date | datetime | time, style: str = "date") -> str:
    """style: date (2026-12-01), weekday (Tue 1 Dec 2026), short (Tue 01 Dec), time
    (14:05:09), hm (14:05), datetime (2026-12-01 14:05), full (2026-12-01 14:05:09); in
    Burmese, the Myanmar style of each."""
    locale, shop_digits = page_locale(context), _settings(context).shop_digits
    if style == "weekday":
        assert isinstance(value, date)
        return formatting.format_weekday_date(value, locale, shop_digits)
    if style == "short":
        assert isinstance(value, date)
        return formatting.format_short_date(value, locale, shop_digits)
    if style in ("time", "hm"):  # a datetime or a time of day
        assert isinstance(value, datetime | time)
        return formatting.format_time(value, locale, shop_digits, seconds=style == "time")
    if style in ("datetime", "full"):
        assert isinstance(value, datetime)
        return formatting.format_datetime(value, locale, shop_digits, seconds=style == "full")
    assert isinstance(value, date)
    day = value.date() if isinstance(value, datetime) else value
    return formatting.format_date(day, locale, shop_digits)


@jinja2.pass_context
def _plan_reason(context: Any, reason: str) -> str:
    return plan_reason(reason, page_locale(context), _settings(context).shop_digits)


# A stock level's status as people read it (the API keeps "ok", "low", "out").
STATUS_NAMES = {"ok": N_("ok"), "low": N_("low"), "out": N_("out")}
MOVEMENT_KINDS = {
    "receipt": N_("receipt"),
    "adjustment": N_("adjustment"),
    "received": N_("receipt"),  # the kinds `stock_movements` records
    "adjusted": N_("adjustment"),
    "transfer_out": N_("transfer sent"),
    "transfer_in": N_("transfer received"),
}
TRANSFER_STATUSES = {"in_transit": N_("in transit"), "received": N_("received")}
ADJUSTMENT_REASONS = {
    "count": N_("Count correction"),
    "damage": N_("Damaged"),
    "loss": N_("Lost or stolen"),
    "found": N_("Found"),
    "other": N_("Other"),
}
# Keyed by the role's value (a Role is a str), so templating needs nothing from auth.
ROLE_NAMES = {"cashier": N_("cashier"), "manager": N_("manager"), "admin": N_("admin")}


@jinja2.pass_context
def _month_name(context: Any, month: int) -> str:
    return formatting.month_name(month, page_locale(context))


def dom_id(text: str) -> str:
    """A string (a SKU) as a safe HTML id part: anything but letters, digits, - and _ -> _."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", text)


def age(
    seconds: float | None, locale: str = "en", shop_digits: formatting.Digits = "myanmar"
) -> str:
    """12.3 -> '12 s', 150 -> '2 min 30 s', 7300 -> '2 h 1 min'; None -> 'never'."""
    gettext = i18n.translations(locale).gettext
    if seconds is None:
        return gettext("never")
    whole = max(0, round(seconds))
    if whole < 60:
        text = gettext("%(s)s s") % {"s": whole}
    elif whole < 3600:
        text = gettext("%(m)s min %(s)s s") % {"m": whole // 60, "s": whole % 60}
    else:
        text = gettext("%(h)s h %(m)s min") % {"h": whole // 3600, "m": whole % 3600 // 60}
    return formatting.digits(text, locale, shop_digits)


@jinja2.pass_context
def _age_filter(context: Any, seconds: float | None) -> str:
    return age(seconds, page_locale(context), _settings(context).shop_digits)


def nav_links(request: Request) -> list[tuple[str, str]]:
    """(href, label) of the pages the signed-in person may open (`require_role` lists
    them for this page's role); none when signed out. Labels are translated where shown."""
    links: list[tuple[str, str]] = getattr(request.state, "nav_links", [])
    return links


_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(REPO_ROOT / "templates"),
    autoescape=True,
    extensions=["jinja2.ext.i18n"],
)
# The environment is shared by every request: `_` and `ngettext` take the language from
# the request in the template's context, never from a global install.
_environment.install_gettext_callables(  # type: ignore[attr-defined]
    _gettext, _ngettext, newstyle=True, pgettext=_pgettext
)
templates = Jinja2Templates(env=_environment)
templates.env.globals["nav_links"] = nav_links
templates.env.globals["page_locale"] = jinja2.pass_context(page_locale)
templates.env.globals["languages"] = i18n.LANGUAGES
templates.env.globals["month_name"] = _month_name
templates.env.globals["plan_reason"] = _plan_reason
templates.env.globals["status_names"] = STATUS_NAMES
templates.env.globals["role_names"] = ROLE_NAMES
templates.env.globals["movement_kinds"] = MOVEMENT_KINDS
templates.env.globals["adjustment_reasons"] = ADJUSTMENT_REASONS
templates.env.globals["transfer_statuses"] = TRANSFER_STATUSES
templates.env.filters["kyat"] = _kyat_filter
templates.env.filters["num"] = _number_filter
templates.env.filters["when"] = _date_filter
templates.env.filters["dom_id"] = dom_id
# A tile's search text also carries its Burmese name as Zawgyi, so typing on a Zawgyi
# phone filters the tiles too (the server converts what is sent; see counter search).
templates.env.filters["zawgyi"] = zawgyi.to_zawgyi
templates.env.filters["age"] = _age_filter


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
