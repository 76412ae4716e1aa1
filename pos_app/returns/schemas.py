from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from pos_app.api_types import STRICT_INPUT
from pos_app.contract import SaleCompleted, SaleReturned
from pos_app.i18n.zawgyi import MyanmarText
from pos_app.sales.schemas import MAX_LINES, PaymentMethod, SaleLineIn

MAX_RETURN_LINES = 100


class ReturnLineIn(BaseModel):
    model_config = STRICT_INPUT

    line_no: int = Field(ge=1, description="the line of the sale the goods come from")
    quantity: int = Field(gt=0, le=1000)


class ReturnIn(BaseModel):
    """What comes back and why. Refunds are the prices the sale charged: not accepted here."""

    model_config = STRICT_INPUT

    reason: MyanmarText = Field(min_length=1, max_length=200)
    lines: list[ReturnLineIn] = Field(min_length=1, max_length=MAX_RETURN_LINES)
    register_id: str | None = Field(default=None, min_length=1, max_length=40)
    refund_method: PaymentMethod = "cash"


class SoldLine(BaseModel):
    line_no: int
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal
    returned: int
    returnable: int


class SaleDetail(BaseModel):
    sale_id: str
    store_id: str
    occurred_at: datetime
    cashier: str
    currency: str
    total: Decimal
    # counter: the sale as recorded (its document); pipeline: only its stored lines (a sale
    # applied before documents were kept)
    source: Literal["counter", "pipeline"]
    # The sale's commercial tax, if any: a return refunds it the same way.
    tax_mode: Literal["none", "included", "added"] = "none"
    tax_rate: Decimal = Decimal(0)
    lines: list[SoldLine]
    return_ids: list[str]


class ExchangeIn(BaseModel):
    """Goods back from a sale and others sold instead, in one step. The difference is
    settled by `take_back.refund_method`: the customer pays it, or gets it back."""

    model_config = STRICT_INPUT

    take_back: ReturnIn
    lines: list[SaleLineIn] = Field(
        min_length=1, max_length=MAX_LINES, description="what the customer takes instead"
    )


class ExchangeOut(BaseModel):
    returned: SaleReturned
    sale: SaleCompleted
    difference: Decimal = Field(
        description="the new sale less the refund: > 0 the customer pays, < 0 gets back"
    )
