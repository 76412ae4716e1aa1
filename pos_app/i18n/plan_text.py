"""The refill plan's "why" column in the reader's language.

The planner writes each row's reason in English (the API and the stored plan keep it so);
the page reads its parts back and says them again through the catalog. A reason of any
other shape is shown as it is.
"""

from __future__ import annotations

import re

from pos_app.i18n import N_, translations
from pos_app.i18n.formatting import MONTHS_EN, Digits, digits, month_name

_MONTH = "|".join(MONTHS_EN)
_NO_HISTORY = re.compile(rf"no ({_MONTH}) a year ago; mean of the last 3 months (\d+)")
_SEASONAL = re.compile(
    rf"({_MONTH}) last year sold (\d+)(?:, the year before (\d+))?"
    r"(?:; (no trend yet)|; shop trend ([+-]?\d+)%)?"
)

NO_HISTORY = N_("no %(month)s a year ago; mean of the last 3 months %(units)s")
LAST_YEAR = N_("%(month)s last year sold %(sold)s")
YEAR_BEFORE = N_(", the year before %(before)s")
NO_TREND = N_("; no trend yet")
TREND = N_("; shop trend %(percent)s%%")


def plan_reason(reason: str, locale: str, shop_digits: Digits = "myanmar") -> str:
    translate = translations(locale).gettext

    def month(name: str) -> str:
        return month_name(MONTHS_EN.index(name) + 1, locale)

    if found := _NO_HISTORY.fullmatch(reason):
        text = translate(NO_HISTORY) % {"month": month(found[1]), "units": found[2]}
        return digits(text, locale, shop_digits)
    found = _SEASONAL.fullmatch(reason)
    if found is None:
        return reason
    text = translate(LAST_YEAR) % {"month": month(found[1]), "sold": found[2]}
    if found[3] is not None:
        text += translate(YEAR_BEFORE) % {"before": found[3]}
    if found[4] is not None:
        text += translate(NO_TREND)
    elif found[5] is not None:
        text += translate(TREND) % {"percent": found[5]}
    return digits(text, locale, shop_digits)
