"""The whole-cart discount: parsed as typed, within the role's limit, spread over the
lines to the pya so unit price x quantity still adds up to exactly what is charged."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pos_app.contract import EventLine, EventTotals
from pos_app.counter import cart_discount
from pos_app.counter.cart_discount import CartDiscount, OverLimit
from pos_app.sales.service import SaleRejected, discount_limit
from pos_app.tax import tax_on


def line(n: int, sku: str, quantity: int, price: int) -> EventLine:
    unit = Decimal(price)
    return EventLine(
        line_no=n, sku=sku, name=sku, quantity=quantity, unit_price=unit, line_total=unit * quantity
    )


def test_a_fixed_amount_rounds_47500_down_to_45000() -> None:
    lines = [line(1, "TKP", 1, 32_500), line(2, "LGY", 1, 15_000)]
    off = cart_discount.amount_off(cart_discount.parse("amount", "2,500", "round down"), 47_500)
    spread, record = cart_discount.apply(
        lines, CartDiscount(kind="amount", value=2500, reason="r"), off
    )
    totals = EventTotals.of(spread)
    assert (totals.subtotal, totals.discount, totals.total) == (47_500, 2_500, 45_000)
    assert record.amount == 2_500 and record.kind == "amount"
    # In proportion: 2,500 x 32,500 / 47,500 = 1,710.53 -> 1,711 (the larger remainder).
    assert [x.cart_discount for x in spread] == [Decimal(1711), Decimal(789)]
    assert all(x.unit_price * x.quantity == x.line_total for x in spread)


def test_a_share_that_does_not_divide_into_the_units_splits_the_line() -> None:
    lines = [line(1, "PSO", 3, 15_500)]  # 46,500; 500 off -> 46,000 over 3 units
    discount = CartDiscount(kind="amount", value=500, reason="regular customer")
    spread, _ = cart_discount.apply(lines, discount, Decimal(500))
    assert [(x.line_no, x.quantity, x.unit_price) for x in spread] == [
        (1, 1, Decimal("15333.34")),
        (2, 2, Decimal("15333.33")),
    ]
    assert sum(x.line_total for x in spread) == Decimal(46_000)
    assert sum(x.cart_discount or 0 for x in spread) == Decimal(500)
    assert all(x.list_price == 15_500 and x.sku == "PSO" for x in spread)


def test_a_percent_is_half_up_to_the_kyat_and_the_tax_is_on_what_is_left() -> None:
    lines = [line(1, "A", 1, 12_345), line(2, "B", 2, 1_000)]  # 14,345
    discount = cart_discount.parse("percent", "5", "staff")
    off = cart_discount.amount_off(discount, Decimal(14_345))
    assert off == Decimal(717)  # 717.25
    spread, _ = cart_discount.apply(lines, discount, off)
    total = EventTotals.of(spread).total
    assert total == Decimal(13_628)
    assert tax_on(total, "added", Decimal(5)).total == Decimal(14_309)  # 681.4 -> 681


def test_a_line_discount_and_a_cart_share_both_count_in_the_line_discount() -> None:
    discounted = EventLine(
        line_no=1,
        sku="A",
        name="A",
        quantity=2,
        unit_price=Decimal(9_000),
        line_total=Decimal(18_000),
        list_price=Decimal(10_000),
        discount_percent=Decimal(10),
        discount=Decimal(2_000),
        discount_reason="soiled",
    )
    spread, _ = cart_discount.apply(
        [discounted], CartDiscount(kind="amount", value=1_000, reason="r"), Decimal(1_000)
    )
    assert [(x.unit_price, x.discount, x.cart_discount, x.discount_percent) for x in spread] == [
        (Decimal(8_500), Decimal(3_000), Decimal(1_000), Decimal(10))
    ]
    assert EventTotals.of(spread).subtotal == Decimal(20_000)


def test_the_limit_is_the_roles_line_discount_limit() -> None:
    limit = discount_limit("cashier")
    cart_discount.check_limit(Decimal(4_750), Decimal(47_500), limit)  # exactly 10 %
    with pytest.raises(OverLimit):
        cart_discount.check_limit(Decimal(4_751), Decimal(47_500), limit)
    cart_discount.check_limit(Decimal(4_751), Decimal(47_500), discount_limit("manager"))


def test_an_approval_holds_only_for_the_cart_it_was_given_for() -> None:
    approved = CartDiscount(
        kind="amount",
        value=Decimal(10_000),
        reason="r",
        approved_by="mgr",
        approved_base=Decimal(47_500),
        approved_limit=Decimal(50),
    )
    assert approved.limit_for(Decimal(47_500), Decimal(10)) == 50
    assert approved.limit_for(Decimal(30_000), Decimal(10)) == 10


@pytest.mark.parametrize(
    ("kind", "value", "reason"),
    [
        ("percent", "101", "r"),
        ("percent", "5.001", "r"),
        ("amount", "2500.5", "r"),
        ("amount", "-1", "r"),
        ("amount", "abc", "r"),
        ("amount", "100", " "),
        ("both", "1", "r"),
    ],
)
def test_bad_input_is_refused_with_a_reason(kind: str, value: str, reason: str) -> None:
    with pytest.raises(SaleRejected):
        cart_discount.parse(kind, value, reason)


def test_more_off_than_the_cart_is_refused() -> None:
    with pytest.raises(SaleRejected):
        cart_discount.amount_off(
            CartDiscount(kind="amount", value=50_000, reason="r"), Decimal(47_500)
        )
