"""The sale's rules written once: payment methods, the discount rule, the counter's split."""

from __future__ import annotations

from decimal import Decimal
from typing import get_args

import pytest

from pos_app.counter.flows import CounterPayment
from pos_app.sales.schemas import PAYMENT_METHODS, PaymentIn, PaymentMethod
from pos_app.sales.service import SaleRejected, check_discount


def test_every_payment_method_has_one_label_and_no_label_lacks_a_method() -> None:
    assert list(PAYMENT_METHODS) == list(get_args(PaymentMethod))


@pytest.mark.parametrize(
    ("percent", "reason", "said"),
    [
        ("-1", "x", "discount must be a percentage from 0 to 100"),
        ("100.5", "x", "discount must be a percentage from 0 to 100"),
        ("5.555", "x", "discount must be a percentage from 0 to 100"),
        ("15", "regular", "a discount of 15 % is over your limit of 10 % (cashier); ask a manager"),
        ("5", "  ", "a discount needs a reason"),
    ],
)
def test_the_discount_rule_refuses_with_the_reason(percent: str, reason: str, said: str) -> None:
    with pytest.raises(SaleRejected) as refused:
        check_discount(Decimal(percent), reason, limit=Decimal(10), who="cashier")
    assert str(refused.value) == said


def test_the_discount_rule_keeps_the_reason_and_drops_it_without_a_discount() -> None:
    assert check_discount(Decimal("7.5"), " regular ", limit=Decimal(10)) == "regular"
    assert check_discount(Decimal(0), "ignored", limit=Decimal(0)) is None


def test_a_single_payment_passes_the_tendered_cash_through() -> None:
    payment = CounterPayment.from_form({"method": "cash", "tendered": "50,000 Ks"})
    assert payment.for_total(Decimal(28000)) == (
        PaymentIn(method="cash", tendered=Decimal(50000)),
        None,
    )


def test_the_payment_form_names_a_known_method() -> None:
    with pytest.raises(SaleRejected, match=r"^choose a payment method$"):
        CounterPayment.from_form({"method": "cheque"})
    with pytest.raises(SaleRejected, match=r"^choose a payment method$"):
        CounterPayment.from_form({"method": "card", "split_method": "cheque"})


def test_a_split_pays_the_second_method_its_amount_and_the_first_the_rest() -> None:
    payment = CounterPayment.from_form(
        {"method": "cash", "tendered": "20000", "split_method": "kbzpay", "split_amount": "10000"}
    )
    _, split = payment.for_total(Decimal(28000))
    assert split == [
        PaymentIn(method="cash", amount=Decimal(18000), tendered=Decimal(20000)),
        PaymentIn(method="kbzpay", amount=Decimal(10000)),
    ]


@pytest.mark.parametrize("amount", ["0", "28000", "30000"])
def test_a_split_amount_must_leave_something_for_each_method(amount: str) -> None:
    """Checked before the cash tendered, as the counter always did."""
    payment = CounterPayment("cash", split_method="kbzpay", split_amount=amount)
    with pytest.raises(SaleRejected, match="more than 0 and less than 28,000 Ks"):
        payment.for_total(Decimal(28000))


@pytest.mark.parametrize(
    ("tendered", "said"),
    [
        ("", "^enter the cash tendered$"),
        ("lots", "^cash tendered must be an amount in kyat, e.g. 50000 .got 'lots'.$"),
    ],
)
def test_cash_needs_an_amount_tendered(tendered: str, said: str) -> None:
    with pytest.raises(SaleRejected, match=said):
        CounterPayment("cash", tendered=tendered).for_total(Decimal(28000))
