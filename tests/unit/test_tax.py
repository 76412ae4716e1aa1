"""Commercial tax (pos_app/tax.py): once per receipt, half up to the kyat; known answers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pos_app.tax import tax_on
from stream_jobs.totals import TotalsProblem, event_tax, line_discounts, totals_row
from tests.factories import return_event, sale_event

D = Decimal


@pytest.mark.parametrize(
    ("base", "tax", "net", "total"),
    [
        (D(21000), D(1000), D(20000), D(21000)),  # divides evenly
        (D(10000), D(476), D(9524), D(10000)),  # 476.19... rounds down
        (D(12150), D(579), D(11571), D(12150)),  # 578.57... rounds up
        (D(2100), D(100), D(2000), D(2100)),
        (D(0), D(0), D(0), D(0)),
    ],
)
def test_tax_included_in_prices(base: Decimal, tax: Decimal, net: Decimal, total: Decimal) -> None:
    found = tax_on(base, "included", D(5))
    assert (found.tax, found.net, found.total) == (tax, net, total)
    assert found.net + found.tax == found.total == base


@pytest.mark.parametrize(
    ("base", "tax", "total"),
    [
        (D(45000), D(2250), D(47250)),  # divides evenly
        (D(12345), D(617), D(12962)),  # 617.25 rounds down
        (D(12350), D(618), D(12968)),  # 617.50: half rounds up
        (D(12370), D(619), D(12989)),  # 618.5 rounds up
        (D(14400), D(720), D(15120)),
    ],
)
def test_tax_added_on_top(base: Decimal, tax: Decimal, total: Decimal) -> None:
    found = tax_on(base, "added", D(5))
    assert (found.tax, found.net, found.total) == (tax, base, total)


def test_once_per_receipt_not_per_line() -> None:
    # Three lines of 1,010 Ks: 50.5 each would round to 51 per line (153 in all); the
    # receipt's 3,030 Ks gives 151.5, one rounding: 152.
    assert tax_on(D(3030), "added", D(5)).tax == D(152)
    assert sum(tax_on(D(1010), "added", D(5)).tax for _ in range(3)) == D(153)


def test_no_tax_and_other_rates() -> None:
    assert tax_on(D(10000), "none", D(5)).tax == 0
    assert tax_on(D(10000), "added", D(3)).tax == D(300)
    assert tax_on(D(10000), "included", D("7.5")).tax == D(698)  # 697.67...
    with pytest.raises(ValueError, match="tax mode"):
        tax_on(D(1), "sometimes", D(5))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="tax rate"):
        tax_on(D(1), "added", D(101))


def test_the_stream_job_recomputes_the_events_tax_and_signs_refunds() -> None:
    sale = sale_event([("TKP-BLK-M", 1, "12350")])
    sale["tax"] = {"mode": "added", "rate": "5", "base": "12350", "amount": "9999"}
    sale["lines"][0] |= {"list_price": "13000", "discount": "650", "discount_percent": "5"}
    tax = event_tax(sale, D(12350))
    assert (tax.tax, tax.total) == (D(618), D(12968))  # the event's 9999 is not trusted
    row = totals_row(sale, tax, items=1, occurred_at="2026-11-28 03:45:00.000")
    assert (row.kind, row.items, row.discount, row.base, row.tax, row.net, row.total) == (
        "sale",
        1,
        D(650),
        D(12350),
        D(618),
        D(12350),
        D(12968),
    )
    back = return_event(sale["sale_id"], [(1, "TKP-BLK-M", 1, "10000")])
    back["tax"] = {"mode": "included", "rate": "5"}
    refund = totals_row(back, event_tax(back, D(10000)), items=1, occurred_at="")
    assert (refund.kind, refund.items, refund.tax, refund.net, refund.total) == (
        "refund",
        -1,
        D(-476),
        D(-9524),
        D(-10000),
    )
    plain = sale_event([("X", 2, "5")])
    untaxed = totals_row(plain, event_tax(plain, D(10)), items=2, occurred_at="")
    assert (untaxed.tax_mode, untaxed.tax, untaxed.total, untaxed.discount) == (
        "none",
        0,
        D(10),
        0,
    )


def test_a_bad_discount_is_named() -> None:
    sale = sale_event([("X", 1, "5")])
    sale["lines"][0]["discount"] = "some"
    with pytest.raises(TotalsProblem, match="line 1: discount must be a decimal string"):
        line_discounts(sale)


@pytest.mark.parametrize(
    ("stated", "problem"),
    [
        ({"mode": "sometimes", "rate": "5"}, "mode must be included or added"),
        ({"mode": "added", "rate": "five"}, "rate must be a decimal string"),
        ({"mode": "added", "rate": 5.5}, "rate must be a decimal string"),
        ({"mode": "added", "rate": "105"}, "rate must be a percentage"),
        ({"mode": "added", "rate": "5.125"}, "to the hundredth"),
        ("added", "tax must be an object"),
    ],
)
def test_an_unusable_tax_says_why(stated: object, problem: str) -> None:
    sale = sale_event([("TKP-BLK-M", 1, "100")])
    sale["tax"] = stated
    with pytest.raises(TotalsProblem, match=problem):
        event_tax(sale, D(100))
