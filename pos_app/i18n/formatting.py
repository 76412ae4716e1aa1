"""Kyat, numbers, dates and times as a reader of each language expects them.

English: "45,000 Ks", "1 Dec 2026 14:05". Burmese: "၄၅,၀၀၀ ကျပ်" (Myanmar digits unless the
shop chose Latin ones), "၂၀၂၆ ခုနှစ် ဒီဇင်ဘာ ၁ ရက်", "၁၄:၀၅". Amounts of a lakh (100,000 Ks,
သိန်း) and more can be shown in lakh where a shop reads reports that way.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

Digits = Literal["myanmar", "latin"]

MYANMAR_DIGITS = str.maketrans("0123456789", "၀၁၂၃၄၅၆၇၈၉")
TO_LATIN_DIGITS = str.maketrans("၀၁၂၃၄၅၆၇၈၉", "0123456789")
LAKH = Decimal(100_000)

MONTHS_MY = (
    "ဇန်နဝါရီ",
    "ဖေဖော်ဝါရီ",
    "မတ်",
    "ဧပြီ",
    "မေ",
    "ဇွန်",
    "ဇူလိုင်",
    "ဩဂုတ်",
    "စက်တင်ဘာ",
    "အောက်တိုဘာ",
    "နိုဝင်ဘာ",
    "ဒီဇင်ဘာ",
)
MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# Short forms for chart axes and table cells, as Yangon calendars abbreviate them.
SHORT_MONTHS_MY = ("ဇန်", "ဖေ", "မတ်", "ဧပြီ", "မေ", "ဇွန်", "ဇူ", "ဩ", "စက်", "အောက်", "နို", "ဒီ")
# Monday first, as datetime.weekday() counts.
WEEKDAYS_MY = ("တနင်္လာ", "အင်္ဂါ", "ဗုဒ္ဓဟူး", "ကြာသပတေး", "သောကြာ", "စနေ", "တနင်္ဂနွေ")
WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def digits(text: str, locale: str, shop_digits: Digits = "myanmar") -> str:
    """Latin digits as Myanmar ones for a Burmese reader whose shop uses them."""
    return text.translate(MYANMAR_DIGITS) if locale == "my" and shop_digits == "myanmar" else text


def number(value: int | Decimal | float, locale: str, shop_digits: Digits = "myanmar") -> str:
    """12345 -> '12,345' (or '၁၂,၃၄၅')."""
    return digits(f"{value:,}", locale, shop_digits)


def _grouped(value: Decimal) -> str:
    return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"


def kyat(
    amount: Decimal | int | str,
    locale: str = "en",
    shop_digits: Digits = "myanmar",
    *,
    lakh: bool = False,
) -> str:
    """45000 -> '45,000 Ks' / '၄၅,၀၀၀ ကျပ်'; keeps cents when there are any (imported
    dollar data). With `lakh`, amounts of 100,000 and over read '45.5 lakh Ks' /
    '၄၅.၅ သိန်း' (to two places: a thousand kyat)."""
    value = Decimal(amount)
    if lakh and abs(value) >= LAKH:
        lakhs = (value / LAKH).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP).normalize()
        text = f"{lakhs:,f}"
        unit = "သိန်း" if locale == "my" else "lakh Ks"
    else:
        text = _grouped(value)
        unit = "ကျပ်" if locale == "my" else "Ks"
    return f"{digits(text, locale, shop_digits)} {unit}"


def format_date(day: date, locale: str, shop_digits: Digits = "myanmar") -> str:
    """2026-12-01 / ၂၀၂၆ ခုနှစ် ဒီဇင်ဘာ ၁ ရက်."""
    if locale == "my":
        text = f"{day.year} ခုနှစ် {MONTHS_MY[day.month - 1]} {day.day} ရက်"
        return digits(text, locale, shop_digits)
    return day.isoformat()


def format_weekday_date(day: date, locale: str, shop_digits: Digits = "myanmar") -> str:
    """Tue 1 Dec 2026 / ၂၀၂၆ ခုနှစ် ဒီဇင်ဘာ ၁ ရက် (အင်္ဂါ)."""
    if locale == "my":
        return f"{format_date(day, locale, shop_digits)} ({WEEKDAYS_MY[day.weekday()]})"
    return f"{WEEKDAYS_EN[day.weekday()]} {day.day} {MONTHS_EN[day.month - 1][:3]} {day.year}"


def format_short_date(day: date, locale: str, shop_digits: Digits = "myanmar") -> str:
    """Tue 24 Nov / ဒီဇင်ဘာ ၁ ရက် (အင်္ဂါ): a day near today."""
    if locale == "my":
        text = f"{MONTHS_MY[day.month - 1]} {day.day} ရက် ({WEEKDAYS_MY[day.weekday()]})"
        return digits(text, locale, shop_digits)
    return f"{WEEKDAYS_EN[day.weekday()]} {day.day:02d} {MONTHS_EN[day.month - 1][:3]}"


def format_time(
    moment: datetime | time, locale: str, shop_digits: Digits = "myanmar", *, seconds: bool = True
) -> str:
    """14:05:09 (24-hour, as shop receipts in Yangon print it), in the reader's digits."""
    return digits(moment.strftime("%H:%M:%S" if seconds else "%H:%M"), locale, shop_digits)


def format_datetime(
    moment: datetime, locale: str, shop_digits: Digits = "myanmar", *, seconds: bool = False
) -> str:
    """2026-12-01 14:05 / ၂၀၂၆ ခုနှစ် ဒီဇင်ဘာ ၁ ရက် ၁၄:၀၅."""
    return (
        f"{format_date(moment.date(), locale, shop_digits)} "
        f"{format_time(moment, locale, shop_digits, seconds=seconds)}"
    )


def month_name(month: int, locale: str) -> str:
    return (MONTHS_MY if locale == "my" else MONTHS_EN)[month - 1]


def short_months(locale: str) -> tuple[str, ...]:
    """Jan..Dec / ဇန်..ဒီ."""
    return SHORT_MONTHS_MY if locale == "my" else tuple(name[:3] for name in MONTHS_EN)
