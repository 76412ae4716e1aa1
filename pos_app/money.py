"""Money as people read it. Plain Python, so services can word a message with an amount
without the web layer."""

from __future__ import annotations

from decimal import Decimal

from pos_app.i18n import current_locale, formatting
from pos_app.settings import get_settings


def kyat(amount: Decimal | int | str) -> str:
    """45000 -> '45,000 Ks' (for a Burmese reader '၄၅,၀၀၀ ကျပ်': the request's language,
    English outside a request and on the REST API); keeps cents when there are any
    (imported dollar data)."""
    return formatting.kyat(amount, current_locale(), get_settings().shop_digits)
