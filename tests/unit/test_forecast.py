"""The refill plan's maths: seasonal naive with trend, safety stock, orders, backtest,
and the folding of raw events into units per product and month."""

from __future__ import annotations

from decimal import Decimal

from pos_app.planning.forecast import (
    add_months,
    backtest,
    forecast,
    months_between,
    order_plan,
    safety_stock,
    store_trend,
)
from pos_app.planning.history import fold, local_month
from pos_app.reports.charts import compact_money, heat_map


def test_month_arithmetic_crosses_years() -> None:
    assert add_months((2025, 11), 3) == (2026, 2)
    assert add_months((2025, 1), -1) == (2024, 12)
    assert add_months((2025, 1), -24) == (2023, 1)
    assert months_between((2025, 11), (2026, 2)) == [(2025, 11), (2025, 12), (2026, 1), (2026, 2)]


def test_same_month_of_two_years_times_the_shops_trend() -> None:
    # The shop sold 14 two years back and 21 last year (+50%); April: 10 then 15.
    history = {
        ("A", (2024, 3)): 4,
        ("A", (2024, 4)): 10,
        ("A", (2025, 3)): 6,
        ("A", (2025, 4)): 15,
    }
    origin = (2026, 3)
    growth = store_trend(history, origin, (2024, 3))
    assert growth == Decimal("1.5")
    result = forecast(history, "A", (2026, 4), origin=origin, first_month=(2024, 3), growth=growth)
    assert result.units == 19  # (15 + 10) / 2 x 1.5 = 18.75
    assert result.reason == "April last year sold 15, the year before 10; shop trend +50%"


def test_the_trend_is_the_shops_not_one_products() -> None:
    history = {("A", (2024, 5)): 10, ("B", (2024, 6)): 10, ("A", (2025, 5)): 30}
    assert store_trend(history, (2026, 1), (2024, 1)) == Decimal("1.5")  # 30 / 20


def test_the_trend_is_held_within_half_and_double() -> None:
    history = {("A", (2024, 5)): 1, ("A", (2025, 5)): 30}
    assert store_trend(history, (2026, 1), (2024, 1)) == Decimal(2)
    falling = {("B", (2024, 5)): 40, ("B", (2025, 5)): 4}
    assert store_trend(falling, (2026, 1), (2024, 1)) == Decimal("0.5")
    assert store_trend({("B", (2025, 5)): 4}, (2026, 1), (2024, 1)) is None  # sold nothing


def test_no_trend_until_the_history_covers_two_whole_years() -> None:
    # Sold from April 2024 only: Mar 2024 is missing from the older year.
    history = {("A", (2024, 4)): 10, ("A", (2025, 4)): 15}
    assert store_trend(history, (2026, 3), (2024, 4)) is None
    result = forecast(history, "A", (2026, 4), origin=(2026, 3), first_month=(2024, 4), growth=None)
    assert (result.units, result.reason) == (
        13,  # (15 + 10) / 2 = 12.5, half up
        "April last year sold 15, the year before 10; no trend yet",
    )


def test_one_year_of_history_uses_last_year_and_none_the_recent_mean() -> None:
    history = {("A", (2025, 1)): 7, ("A", (2025, 11)): 3, ("A", (2025, 12)): 6}
    result = forecast(history, "A", (2026, 1), origin=(2026, 1), first_month=(2025, 1), growth=None)
    assert (result.units, result.reason) == (7, "January last year sold 7; no trend yet")
    young = {("A", (2025, 10)): 4, ("A", (2025, 11)): 5, ("A", (2025, 12)): 6}
    result = forecast(young, "A", (2026, 2), origin=(2026, 1), first_month=(2025, 10), growth=None)
    assert result.units == 5  # (4 + 5 + 6) / 3
    assert "mean of the last 3 months" in result.reason


def test_months_at_or_after_the_origin_are_never_read() -> None:
    history = {("A", (2025, 4)): 12, ("A", (2026, 4)): 999}
    result = forecast(history, "A", (2026, 4), origin=(2026, 4), first_month=(2025, 4), growth=None)
    assert result.units == 12


def test_safety_stock_is_a_quarter_rounded_up() -> None:
    assert [safety_stock(n) for n in (0, 1, 4, 5, 23)] == [0, 1, 1, 2, 6]


def test_orders_cover_forecast_and_safety_and_carry_stock_forward() -> None:
    months = [(2026, 1), (2026, 2), (2026, 3)]
    lines = order_plan(10, [23, 0, 8], months)
    # Jan: start 10, safety 6, order 23 + 6 - 10 = 19; Feb starts with 10 + 19 - 23 = 6
    assert [(p.expected_start_stock, p.safety_stock, p.suggested_order) for p in lines] == [
        (10, 6, 19),
        (6, 0, 0),
        (6, 2, 4),
    ]
    # Negative on hand (a pipeline that is behind) plans from zero, never orders < 0.
    assert order_plan(-5, [4], months[:1])[0].expected_start_stock == 0
    assert order_plan(100, [4], months[:1])[0].suggested_order == 0


def test_backtest_against_the_same_month_last_year_baseline() -> None:
    # 10 a month in 2023, 12 in 2024, 14 in 2025: steady growth the trend follows.
    history = {("A", (2023, m)): 10 for m in range(1, 13)}
    history |= {("A", (2024, m)): 12 for m in range(1, 13)}
    history |= {("A", (2025, m)): 14 for m in range(1, 13)}
    result = backtest(history, ["A"], origin=(2026, 1))
    assert result is not None
    assert (result.months, result.points, result.actual_units) == (12, 12, 168)
    # The baseline says 12 every month of 2025 (error 2 each); the model says
    # (12 + 10) / 2 x ~1.2 = ~13.2 -> 13 (error 1 each).
    assert result.baseline_mae == Decimal("2.00")
    assert result.baseline_wape == Decimal("0.1429")  # 24 / 168
    assert (result.mae, result.wape) == (Decimal("1.00"), Decimal("0.0714"))
    assert backtest({("A", (2025, 3)): 4}, ["A"], origin=(2026, 1)) is None  # < 13 months


def test_backtest_of_the_e2e_construction() -> None:
    # As tests/e2e/test_answers.py builds it: 4, 10 at 24 and 23 months before the origin,
    # 6, 15 at 12 and 11 months before it. With no month of the backtest having two years
    # behind it, the method is the baseline: errors 2 and 5 over 12 months, 21 units.
    origin = (2026, 12)
    sold = {-24: 4, -23: 10, -12: 6, -11: 15}
    history = {("X", add_months(origin, k)): units for k, units in sold.items()}
    result = backtest(history, ["X"], origin=origin)
    assert result is not None
    assert (result.months, result.points, result.actual_units) == (12, 12, 21)
    assert (result.mae, result.wape) == (Decimal("0.58"), Decimal("0.3333"))
    assert (result.baseline_mae, result.baseline_wape) == (result.mae, result.wape)


def test_fold_books_sales_and_returns_in_their_local_month() -> None:
    events = [
        {
            "event_type": "sale.completed",
            "occurred_at": "2026-03-31T23:30:00+06:30",  # 17:00 UTC: still March in Yangon
            "lines": [{"sku": "A", "quantity": 3}, {"sku": "B", "quantity": 1}],
        },
        {
            "event_type": "sale.returned",
            "occurred_at": "2026-04-02T10:00:00+06:30",
            "lines": [{"sku": "A", "quantity": 1}],
        },
    ]
    assert fold(events) == {("A", (2026, 3)): 3, ("B", (2026, 3)): 1, ("A", (2026, 4)): -1}
    assert local_month("2025-12-31T23:59:59-05:00") == (2025, 12)


def test_compact_money_and_heat_levels() -> None:
    assert compact_money(Decimal(1_234_567)) == "1.2M Ks"
    assert compact_money(Decimal(45000)) == "45K Ks"
    assert compact_money(Decimal(1_000_000)) == "1M Ks"
    assert compact_money(Decimal(980)) == "980 Ks"
    chart = heat_map(
        "t",
        [("A", "Product A"), ("B", "Product B")],
        ["Jan", "Feb"],
        {"A": {1: Decimal(100), 2: Decimal(19)}, "B": {2: Decimal(50)}},
        money=str,
    )
    assert [c.level for c in chart.cells] == [5, 1, 0, 3]
    assert chart.cells[2].label == "-"
    assert chart.cells[0].title == "Product A, Jan: 100"
