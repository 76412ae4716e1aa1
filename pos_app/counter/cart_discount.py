"""A discount on the whole cart: a percent, or a fixed amount of kyat (47,500 rounded
down to 45,000 is 2,500 off), within the cashier's limit or approved by a manager's PIN.

The limit is the line discounts' rule (`discount_limit` per role, in percent); a fixed
amount counts as the percent it is of what the lines charge. The discount is spread over
the lines in whole kyat, in proportion to what each charges (the largest remainders
take the odd kyat), and goes into each line's net unit price: the stream job, the tax and
the reports then see the discounted lines as they see any other. A line whose share
does not divide into its units to the pya is split in two lines of the same product
(some units one pya dearer), so unit price x quantity is still exactly what it charges."""

from __future__ import annotations

from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Literal

from pydantic import BaseModel, Field

from pos_app.contract import EventCartDiscount, EventLine
from pos_app.i18n import gettext
from pos_app.money import kyat
from pos_app.sales.service import SaleRejected

KYAT = Decimal(1)
CENT = Decimal("0.01")


class CartDiscount(BaseModel):
    """What the cashier set on the cart (kept with it until it is paid)."""

    kind: Literal["percent", "amount"]
    value: Decimal = Field(gt=0)
    reason: str = Field(min_length=1, max_length=120)
    approved_by: str | None = None  # the manager whose PIN approved it
    # The approval holds for the cart as it was approved: the lines charging this much,
    # within the approver's own limit. Once the cart changes, the cashier's limit again.
    approved_base: Decimal | None = None
    approved_limit: Decimal | None = None

    def limit_for(self, base: Decimal, own_limit: Decimal) -> Decimal:
        if self.approved_limit is not None and self.approved_base == base:
            return max(own_limit, self.approved_limit)
        return own_limit


class OverLimit(SaleRejected):
    """The discount is more than the person may give: a manager approves it by PIN."""

    def __init__(self, percent: Decimal, limit: Decimal) -> None:
        shown, most = f"{percent:.2f}".rstrip("0").rstrip("."), f"{limit:g}"
        super().__init__(
            gettext(
                "a cart discount of %(percent)s %% is over your limit of %(limit)s %%: "
                "a manager approves it with their PIN",
                percent=shown,
                limit=most,
            )
        )
        self.percent, self.limit = percent, limit


def parse(kind: str, value: str, reason: str) -> CartDiscount:
    """The cart-discount form: "5" percent, or "2,500" kyat off."""
    if kind not in ("percent", "amount"):
        raise SaleRejected(gettext("choose percent or amount"))
    text = value.replace(",", "").removesuffix("Ks").removesuffix("%").strip()
    try:
        number = Decimal(text) if len(text) <= 12 else Decimal("NaN")
    except ArithmeticError:
        number = Decimal("NaN")
    if not number.is_finite() or number <= 0:
        raise SaleRejected(gettext("enter the discount: a percent, or an amount in kyat"))
    if kind == "percent" and (number > 100 or number != number.quantize(CENT)):
        raise SaleRejected(gettext("discount must be a percentage from 0 to 100"))
    if kind == "amount" and number != number.quantize(KYAT):
        raise SaleRejected(gettext("a cart discount amount is whole kyat"))
    if not reason.strip():
        raise SaleRejected(gettext("a discount needs a reason"))
    return CartDiscount(kind=kind, value=number, reason=reason.strip()[:120])  # type: ignore[arg-type]


def amount_off(discount: CartDiscount, base: Decimal) -> Decimal:
    """The kyat the discount takes off lines that charge `base` (a percent: half up to
    the kyat). Never more than the lines charge."""
    if discount.kind == "percent":
        off = (base * discount.value / 100).quantize(KYAT, rounding=ROUND_HALF_UP)
    else:
        off = discount.value
    if off > base:
        raise SaleRejected(
            gettext(
                "the discount %(off)s is more than the cart's %(base)s",
                off=kyat(off),
                base=kyat(base),
            )
        )
    return off


def percent_of(off: Decimal, base: Decimal) -> Decimal:
    """What `off` is of `base`, in percent (the limit's measure)."""
    return Decimal(100) if base == 0 else off * 100 / base


def check_limit(off: Decimal, base: Decimal, limit: Decimal) -> None:
    percent = percent_of(off, base)
    if percent > limit:
        raise OverLimit(percent, limit)


def _shares(lines: list[EventLine], off: Decimal) -> list[Decimal]:
    """`off` over the lines in whole kyat, in proportion to what each charges."""
    base = sum((line.line_total for line in lines), Decimal(0))
    if base == 0:
        return [Decimal(0)] * len(lines)
    exact = [off * line.line_total / base for line in lines]
    shares = [x.quantize(KYAT, rounding=ROUND_FLOOR) for x in exact]
    left = int(off - sum(shares, Decimal(0)))
    by_remainder = sorted(range(len(lines)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in by_remainder[:left]:
        shares[i] += 1
    return [min(share, line.line_total) for share, line in zip(shares, lines, strict=True)]


def _part(line: EventLine, quantity: int, unit: Decimal) -> EventLine:
    list_price = line.list_price if line.list_price is not None else line.unit_price
    return line.model_copy(
        update={
            "quantity": quantity,
            "unit_price": unit,
            "line_total": unit * quantity,
            "list_price": list_price,
            "discount": (list_price - unit) * quantity,
            "cart_discount": (line.unit_price - unit) * quantity,
        }
    )


def apply(
    lines: list[EventLine], discount: CartDiscount, off: Decimal
) -> tuple[list[EventLine], EventCartDiscount]:
    """The lines with `off` kyat spread over them, renumbered; and the event's record."""
    base = sum((line.line_total for line in lines), Decimal(0))
    spread: list[EventLine] = []
    for line, share in zip(lines, _shares(lines, off), strict=True):
        if share == 0:
            spread.append(line)
            continue
        pyas = int((line.line_total - share) / CENT)  # what the line now charges
        each, odd = divmod(pyas, line.quantity)
        if odd:
            spread.append(_part(line, odd, (each + 1) * CENT))
        if line.quantity - odd:
            spread.append(_part(line, line.quantity - odd, each * CENT))
    renumbered = [line.model_copy(update={"line_no": n}) for n, line in enumerate(spread, start=1)]
    record = EventCartDiscount(
        kind=discount.kind,
        value=discount.value,
        amount=off,
        reason=discount.reason,
        approved_by=discount.approved_by if discount.approved_base == base else None,
    )
    return renumbered, record
