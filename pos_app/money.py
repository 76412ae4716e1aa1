"""Money as people read it. Plain Python, so services can word a message with an amount
without the web layer."""

from __future__ import annotations

from decimal import Decimal


def kyat(amount: Decimal | int | str) -> str:
    """45000 -> '45,000 Ks'; keeps cents when there are any (imported dollar data)."""
    value = Decimal(amount)
    text = f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"
    return f"{text} Ks"
