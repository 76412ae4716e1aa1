"""Commercial tax: one rule for the counter, the receipts and the stream job.

The shop sets a mode and a rate (`POS_TAX_MODE`, `POS_TAX_RATE`):

- `none`: no tax;
- `included`: prices already contain the tax; the tax in an amount A is A x r / (100 + r);
- `added`: the tax goes on top; the customer pays A + A x r / 100.

Rounding: once per receipt (or return), on the total the lines charge after discounts,
half up to the whole kyat. Lines are never taxed one by one, so the tax on a receipt is
never off by the sum of per-line roundings."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal, get_args

from pos_app.contract import EventTax

TaxMode = Literal["none", "included", "added"]
TAX_MODES: tuple[str, ...] = get_args(TaxMode)
DEFAULT_RATE = Decimal(5)  # percent; Myanmar's commercial tax on most retail goods
KYAT = Decimal(1)


@dataclass(frozen=True)
class TaxBreakdown:
    mode: TaxMode
    rate: Decimal  # percent
    base: Decimal  # what the lines charge (after discounts)
    tax: Decimal  # the tax in (included) or on (added) the base, whole kyat
    net: Decimal  # the base without tax
    total: Decimal  # what the customer pays

    @property
    def applies(self) -> bool:
        return self.mode != "none"


def tax_on(base: Decimal, mode: TaxMode, rate: Decimal) -> TaxBreakdown:
    """The tax of a receipt (or a return) whose lines charge `base`."""
    if mode not in TAX_MODES:
        raise ValueError(f"tax mode must be one of {', '.join(TAX_MODES)} (got {mode!r})")
    if not Decimal(0) <= rate <= Decimal(100):
        raise ValueError(f"tax rate must be a percentage from 0 to 100 (got {rate})")
    if mode == "added":
        tax = (base * rate / 100).quantize(KYAT, rounding=ROUND_HALF_UP)
        return TaxBreakdown(mode, rate, base, tax, net=base, total=base + tax)
    if mode == "included":
        tax = (base * rate / (100 + rate)).quantize(KYAT, rounding=ROUND_HALF_UP)
        return TaxBreakdown(mode, rate, base, tax, net=base - tax, total=base)
    return TaxBreakdown(mode, rate, base, Decimal(0), net=base, total=base)


def event_tax(breakdown: TaxBreakdown) -> EventTax | None:
    """The `tax` of a sale or return event (none when the shop charges no tax)."""
    if not breakdown.applies:
        return None
    return EventTax(
        mode=breakdown.mode,  # type: ignore[arg-type]  # "none" returned above
        rate=breakdown.rate,
        base=breakdown.base,
        amount=breakdown.tax,
    )
