"""Forecast units per product and month: seasonal naive with the shop's yearly trend,
in whole units and Decimal ratios (no floats, no numpy).

    forecast(T) = mean(units(T - 12 months), units(T - 24 months)) x trend, half up
                  (only T - 12 when the history does not reach back two years)
    trend       = the shop's units of the 12 whole months before the origin / those of
                  the 12 before them, held within [1/2, 2]; none (x1) until the history
                  covers both years

Why these choices: a product sells a handful a month, so one product's year-on-year
ratio is mostly noise; the shop's total carries the real growth. Averaging two years
of the same month halves the noise of a single month. On the demo history both cut
the error against the plain "same month last year" baseline (the backtest shows it).

A product with no history a year before T falls back to the mean of the last three
months before the origin. The origin is the first month not yet complete: only whole
months count, so today's half month never looks like a slump.

The backtest replays the method at every month of the last year (rolling origin, one
month ahead) and compares it with the plain "same month last year" baseline.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

Month = tuple[int, int]  # (year, month)
# units sold per (sku, month); a missing key means none sold
History = Mapping[tuple[str, Month], int]

TREND_MIN, TREND_MAX = Decimal("0.5"), Decimal(2)
MONTH_NAMES = (
    *("January", "February", "March", "April", "May", "June"),
    *("July", "August", "September", "October", "November", "December"),
)


def add_months(month: Month, count: int) -> Month:
    index = month[0] * 12 + month[1] - 1 + count
    return index // 12, index % 12 + 1


def months_between(first: Month, last: Month) -> list[Month]:
    """first .. last inclusive."""
    span = (last[0] * 12 + last[1]) - (first[0] * 12 + first[1])
    return [add_months(first, n) for n in range(span + 1)]


def _sum(history: History, sku: str, first: Month, last: Month) -> int:
    return sum(history.get((sku, m), 0) for m in months_between(first, last))


@dataclass(frozen=True)
class Forecast:
    sku: str
    month: Month
    units: int
    reason: str


def store_trend(history: History, origin: Month, first_month: Month | None) -> Decimal | None:
    """The shop's growth: units of the last 12 whole months over the 12 before. None when
    the history (from first_month) does not cover both years or the older sold nothing."""
    if first_month is None or add_months(origin, -24) < first_month:
        return None  # a part year against a whole one would look like growth
    recent_from, older_from = add_months(origin, -12), add_months(origin, -24)
    recent = sum(u for (_, m), u in history.items() if recent_from <= m < origin)
    older = sum(u for (_, m), u in history.items() if older_from <= m < recent_from)
    if older <= 0:
        return None
    return min(max(Decimal(recent) / Decimal(older), TREND_MIN), TREND_MAX)


def forecast(
    history: History,
    sku: str,
    month: Month,
    *,
    origin: Month,
    first_month: Month | None,
    growth: Decimal | None,
) -> Forecast:
    """Units of sku in `month` (origin <= month < origin + 12), knowing only the whole
    months before `origin`. first_month: the first month of the history (None: empty);
    growth: store_trend(history, origin, first_month)."""
    name = MONTH_NAMES[month[1] - 1]
    last_year, two_years = add_months(month, -12), add_months(month, -24)
    if first_month is None or last_year < first_month:
        last3 = _sum(history, sku, add_months(origin, -3), add_months(origin, -1))
        units = int((Decimal(last3) / 3).quantize(Decimal(1), ROUND_HALF_UP))
        return Forecast(
            sku, month, units, f"no {name} a year ago; mean of the last 3 months {units}"
        )
    sold = history.get((sku, last_year), 0)
    reason = f"{name} last year sold {sold}"
    level = Decimal(sold)
    if two_years >= first_month:
        before = history.get((sku, two_years), 0)
        level = (level + before) / 2
        reason += f", the year before {before}"
    if growth is None:
        reason += "; no trend yet"
    else:
        level *= growth
        percent = ((growth - 1) * 100).quantize(Decimal(1), ROUND_HALF_UP)
        reason += f"; shop trend {percent:+}%"
    return Forecast(sku, month, int(level.quantize(Decimal(1), ROUND_HALF_UP)), reason)


def same_month_last_year(history: History, sku: str, month: Month) -> int:
    return history.get((sku, add_months(month, -12)), 0)


# --- Safety stock and orders -------------------------------------------------------------

SAFETY_SHARE = Decimal("0.25")  # a week of the month's forecast: about the supplier's lead time


def safety_stock(forecast_units: int) -> int:
    """A quarter of the month's forecast, rounded up: cover for a week's delay or a
    forecast that is a quarter short."""
    return math.ceil(Decimal(forecast_units) * SAFETY_SHARE)


@dataclass(frozen=True)
class PlanLine:
    month: Month
    forecast_units: int
    expected_start_stock: int
    safety_stock: int
    suggested_order: int


def order_plan(on_hand: int, forecasts: Iterable[int], months: Iterable[Month]) -> list[PlanLine]:
    """Expected stock at the start of each month = on hand now - the forecasts of the
    months before it + the orders planned for them (never below zero: a shop that runs
    out loses sales, it does not owe stock); order = forecast + safety - start stock,
    never negative."""
    lines = []
    stock = max(on_hand, 0)
    for month, units in zip(months, forecasts, strict=True):
        safety = safety_stock(units)
        order = max(units + safety - stock, 0)
        lines.append(PlanLine(month, units, stock, safety, order))
        stock = max(stock + order - units, 0)
    return lines


# --- Backtest ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Backtest:
    months: int  # months evaluated
    points: int  # product-months evaluated
    actual_units: int
    mae: Decimal  # mean absolute error, units per product and month
    wape: Decimal | None  # sum |error| / sum actual, as a fraction (None: nothing sold)
    baseline_mae: Decimal
    baseline_wape: Decimal | None


def _errors(pairs: list[tuple[int, int]]) -> tuple[Decimal, Decimal | None]:
    absolute = sum(abs(f - a) for f, a in pairs)
    actual = sum(a for _, a in pairs)
    mae = (Decimal(absolute) / len(pairs)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    if not actual:
        return mae, None
    return mae, (Decimal(absolute) / actual).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def backtest(
    history: History, skus: Iterable[str], *, origin: Month, window: int = 12
) -> Backtest | None:
    """One-month-ahead forecasts for each of the `window` whole months before origin that
    have a year of history before them, against what sold. None: too little history."""
    months_seen = [m for _, m in history]
    if not months_seen:
        return None
    first = min(months_seen)
    targets = [
        add_months(origin, -k) for k in range(window, 0, -1) if add_months(origin, -k - 12) >= first
    ]
    skus = sorted(set(skus))
    if not targets or not skus:
        return None
    model, baseline = [], []
    for month in targets:
        growth = store_trend(history, month, first)
        for sku in skus:
            actual = history.get((sku, month), 0)
            predicted = forecast(
                history, sku, month, origin=month, first_month=first, growth=growth
            ).units
            model.append((predicted, actual))
            baseline.append((same_month_last_year(history, sku, month), actual))
    mae, wape = _errors(model)
    base_mae, base_wape = _errors(baseline)
    return Backtest(
        months=len(targets),
        points=len(model),
        actual_units=sum(a for _, a in model),
        mae=mae,
        wape=wape,
        baseline_mae=base_mae,
        baseline_wape=base_wape,
    )
