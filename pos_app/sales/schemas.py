"""What a client sends to ring up a sale. Prices are not accepted: they come from the
catalog (extra fields are refused, so a client cannot slip in a `unit_price`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from pos_app.api_types import STRICT_INPUT, LaxDecimal
from pos_app.i18n import N_
from pos_app.i18n.zawgyi import MyanmarText

PaymentMethod = Literal["cash", "card", "kbzpay", "wavepay", "ayapay"]
# The label people read for each method (the counter's buttons, receipts); the one list.
# Labels are translated where they are shown; the brand names stay as they are.
PAYMENT_METHODS: dict[PaymentMethod, str] = {
    "cash": N_("Cash"),
    "card": N_("Card"),
    "kbzpay": "KBZPay",
    "wavepay": "WavePay",
    "ayapay": "AYA Pay",
}
MAX_LINES = 100
MAX_QUANTITY = 1000


class SaleLineIn(BaseModel):
    model_config = STRICT_INPUT

    sku: str = Field(min_length=1, max_length=40)
    quantity: int = Field(gt=0, le=MAX_QUANTITY)
    # A line discount in percent; how much a person may give depends on their role.
    discount_percent: LaxDecimal = Field(default=Decimal(0), ge=0, le=100, decimal_places=2)
    discount_reason: MyanmarText | None = Field(default=None, min_length=1, max_length=120)


class PaymentIn(BaseModel):
    model_config = STRICT_INPUT

    method: PaymentMethod = "cash"
    tendered: LaxDecimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=2)
    # Only in a split (`payments`): the part of the total paid this way.
    amount: LaxDecimal | None = Field(default=None, gt=0, max_digits=14, decimal_places=2)
    # A card's or wallet's transaction id (typed or scanned); cash has none.
    reference: str | None = Field(default=None, min_length=1, max_length=64)


class SaleIn(BaseModel):
    model_config = STRICT_INPUT

    lines: list[SaleLineIn] = Field(min_length=1, max_length=MAX_LINES)
    payment: PaymentIn = Field(default_factory=PaymentIn)
    # A split between two methods, each with its amount (they must add up to the total);
    # give either `payment` or `payments`.
    payments: list[PaymentIn] | None = Field(default=None, min_length=2, max_length=2)
    # Recorded as who rang the sale up: the signed-in person's name, or the API key's
    # name; what a client sends here is replaced by that.
    cashier: str = Field(
        default="api",
        min_length=1,
        max_length=60,
        description="ignored: the sale records the signed-in user or the API key's name",
    )
    register_id: str | None = Field(default=None, min_length=1, max_length=40)
