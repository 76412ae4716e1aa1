"""The Today view's pure parts: averages to the cent, ages as people read them, MySQL
TIME values."""

from __future__ import annotations

from datetime import time, timedelta
from decimal import Decimal

import pytest

from pos_app.reports.today import _as_time, _Sum
from pos_app.templating import age


@pytest.mark.parametrize(
    ("revenue", "sales", "expected"),
    [
        (Decimal("100000"), 3, Decimal("33333.33")),
        (Decimal("200000"), 3, Decimal("66666.67")),  # half up, not truncated
        (Decimal("45000"), 1, Decimal("45000.00")),
        (Decimal("0"), 0, Decimal("0")),  # no sales yet: no division by zero
        (Decimal("-18000"), 0, Decimal("0")),  # only a refund today
    ],
)
def test_average_sale_is_exact_to_the_cent(revenue: Decimal, sales: int, expected: Decimal) -> None:
    figures = _Sum(revenue=revenue, units=0, sales=sales).figures()
    assert figures.average_sale == expected
    assert isinstance(figures.average_sale, Decimal)
    assert figures.revenue == revenue


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "never"),
        (0.4, "0 s"),
        (-1.2, "0 s"),  # clocks a hair apart: never a negative age
        (12.6, "13 s"),
        (150, "2 min 30 s"),
        (7300, "2 h 1 min"),
    ],
)
def test_ages_read_as_people_say_them(seconds: float | None, text: str) -> None:
    assert age(seconds) == text


def test_mysql_time_comes_back_as_a_time_of_day() -> None:
    assert _as_time(timedelta(hours=13, minutes=5, seconds=9)) == time(13, 5, 9)
    assert _as_time(time(9, 0)) == time(9, 0)
