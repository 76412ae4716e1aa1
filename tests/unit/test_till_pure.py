"""The drawer count and the kyat amounts a shift takes (pos_app/till/service.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pos_app.till.service import NOTES, ShiftError, count_notes, whole_kyat


def test_the_drawer_is_counted_note_by_note() -> None:
    assert NOTES == (10000, 5000, 1000, 500, 200, 100, 50)
    assert count_notes({10000: 10, 1000: 1}) == Decimal(101000)
    assert count_notes({value: 1 for value in NOTES}) == Decimal(16850)
    assert count_notes({}) == 0


@pytest.mark.parametrize(
    ("notes", "problem"),
    [({20000: 1}, "not a kyat note: 20000"), ({500: -1}, "500 Ks notes must be from 0")],
)
def test_a_bad_count_says_why(notes: dict[int, int], problem: str) -> None:
    with pytest.raises(ShiftError, match=problem):
        count_notes(notes)


@pytest.mark.parametrize("amount", ["-1", "10.5", "NaN", "100000001"])
def test_floats_and_petty_cash_are_whole_kyat(amount: str) -> None:
    with pytest.raises(ShiftError):
        whole_kyat(Decimal(amount), "the float")
    assert whole_kyat(Decimal(50000), "the float") == 50000
