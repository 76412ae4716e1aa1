"""Suppliers and purchase orders through the REST API: what the manager's pages do."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.auth.deps import Principal, require_scope
from pos_app.auth.roles import PURCHASING_READ, PURCHASING_WRITE
from pos_app.contract import StockReceived
from pos_app.db.unit_of_work import after_commit
from pos_app.deps import RelayDep, SettingsDep, TransactionDep
from pos_app.purchasing.service import (
    MAX_UNITS,
    NO_SUPPLIER,
    NOTHING_PLANNED,
    SUPPLIER_TAKEN,
    Order,
    PurchaseRejected,
    Supplier,
    SupplierIn,
    cancel_order,
    create_order,
    get_order,
    get_supplier,
    list_orders,
    list_suppliers,
    place_order,
    plan_suggestions,
    receive_against,
    save_draft_lines,
    save_supplier,
)

router = APIRouter(prefix="/api/v1", tags=["purchasing"])
PurchasingReader = Annotated[Principal, Depends(require_scope(PURCHASING_READ))]
PurchasingWriter = Annotated[Principal, Depends(require_scope(PURCHASING_WRITE))]
Responses = dict[int | str, dict[str, Any]]
NOT_FOUND: Responses = {404: {"description": "No such supplier or purchase order"}}
REFUSED: Responses = {422: {"description": "Refused: the message says why (nothing changed)"}}
CONFLICT: Responses = {
    409: {"description": "A supplier of that name exists, or the order's state forbids it"}
}


class SupplierPatch(BaseModel):
    """The fields to change; the others stay."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=120)
    phone: str | None = Field(default=None, max_length=40)
    viber: str | None = Field(default=None, max_length=40)
    lead_time_days: int | None = Field(default=None, ge=0, le=365)
    notes: str | None = Field(default=None, max_length=500)


class OrderLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1, max_length=40)
    quantity: int = Field(gt=0, le=MAX_UNITS)
    unit_cost: Decimal | None = Field(
        default=None, ge=0, decimal_places=0, description="kyat; default: the cost price"
    )


class OrderIn(BaseModel):
    """A draft order: `lines`, or `from_plan` for the refill plan's suggested quantities."""

    model_config = ConfigDict(extra="forbid")

    supplier_id: int
    from_plan: bool = False
    lines: list[OrderLineIn] = Field(default_factory=list, max_length=200)

    @model_validator(mode="after")
    def _one_source(self) -> OrderIn:
        if self.from_plan == bool(self.lines):
            raise ValueError("give lines, or from_plan: true (not both)")
        return self


class ReceiveLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line_no: int = Field(ge=1)
    quantity: int = Field(gt=0, le=MAX_UNITS)


class ReceiveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lines: list[ReceiveLineIn] = Field(min_length=1, max_length=200)
    allow_over: bool = Field(default=False, description="record more than is still to come")


class OrderLineOut(BaseModel):
    line_no: int
    sku: str
    name: str
    quantity: int
    unit_cost: Decimal
    received: int
    outstanding: int


class OrderOut(BaseModel):
    po_id: str
    supplier: Supplier
    store_id: str
    status: str  # draft | ordered | partly_received | received | cancelled
    created_by: str
    created_at: datetime
    ordered_at: datetime | None
    expected_on: date | None
    total_cost: Decimal
    lines: list[OrderLineOut]

    @classmethod
    def of(cls, order: Order) -> OrderOut:
        return cls(
            po_id=order.po_id,
            supplier=order.supplier,
            store_id=order.store_id,
            status=order.status,
            created_by=order.created_by,
            created_at=order.created_at,
            ordered_at=order.ordered_at,
            expected_on=order.expected_on,
            total_cost=order.total_cost,
            lines=[
                OrderLineOut(
                    line_no=line.line_no,
                    sku=line.sku,
                    name=line.name,
                    quantity=line.quantity,
                    unit_cost=line.unit_cost,
                    received=line.received,
                    outstanding=line.outstanding,
                )
                for line in order.lines
            ],
        )


class OrderSummary(BaseModel):
    po_id: str
    supplier_id: int
    supplier: str
    store_id: str
    status: str
    created_at: datetime
    ordered_at: datetime | None
    expected_on: date | None
    units: int
    outstanding: int
    cost: Decimal


class Received(BaseModel):
    receipt: StockReceived  # the goods-receipt event, naming the order and its costs
    order: OrderOut


def _refused(error: PurchaseRejected) -> HTTPException:
    message = str(error)
    if message == NO_SUPPLIER:
        return HTTPException(status.HTTP_404_NOT_FOUND, detail=message)
    taken_prefix, taken_suffix = SUPPLIER_TAKEN.split("{name}")
    if message.startswith("order ") or (
        message.startswith(taken_prefix) and message.endswith(taken_suffix)
    ):
        return HTTPException(status.HTTP_409_CONFLICT, detail=message)
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=message)


async def _order(conn: AsyncConnection, po_id: str) -> OrderOut:
    try:
        return OrderOut.of(await get_order(conn, po_id))
    except LookupError as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(error)) from None


# --- suppliers ---------------------------------------------------------------------------


@router.get("/suppliers", response_model=list[Supplier])
async def get_suppliers(conn: TransactionDep, _: PurchasingReader) -> list[Supplier]:
    """Every supplier, by name."""
    return await list_suppliers(conn)


@router.post(
    "/suppliers",
    status_code=status.HTTP_201_CREATED,
    response_model=Supplier,
    responses={**CONFLICT},
)
async def post_supplier(
    body: SupplierIn, conn: TransactionDep, principal: PurchasingWriter
) -> Supplier:
    """A new supplier (name, phone, Viber, lead time in days, notes); names are unique."""
    try:
        supplier_id = await save_supplier(conn, body, actor=principal.actor)
        return await get_supplier(conn, supplier_id)
    except PurchaseRejected as error:
        raise _refused(error) from None


@router.patch(
    "/suppliers/{supplier_id}", response_model=Supplier, responses={**NOT_FOUND, **CONFLICT}
)
async def patch_supplier(
    supplier_id: int, body: SupplierPatch, conn: TransactionDep, principal: PurchasingWriter
) -> Supplier:
    """Change the fields sent; the others stay."""
    try:
        known = await get_supplier(conn, supplier_id)
        merged = SupplierIn.model_validate(
            known.model_dump(exclude={"id"}) | body.model_dump(exclude_unset=True)
        )
        await save_supplier(conn, merged, actor=principal.actor, supplier_id=supplier_id)
        return await get_supplier(conn, supplier_id)
    except PurchaseRejected as error:
        raise _refused(error) from None


# --- purchase orders ---------------------------------------------------------------------


@router.get("/purchase-orders", response_model=list[OrderSummary])
async def get_orders(
    conn: TransactionDep, settings: SettingsDep, _: PurchasingReader
) -> list[OrderSummary]:
    """This store's orders, newest first (at most 200)."""
    rows = await list_orders(conn, store_id=settings.store_id)
    return [OrderSummary.model_validate(row) for row in rows]


@router.post(
    "/purchase-orders",
    status_code=status.HTTP_201_CREATED,
    response_model=OrderOut,
    responses={**NOT_FOUND, **REFUSED},
)
async def post_order(
    body: OrderIn, conn: TransactionDep, settings: SettingsDep, principal: PurchasingWriter
) -> OrderOut:
    """A draft order, from lines (cost per unit: given, else the product's cost price) or
    from the refill plan's suggested quantities for its first month."""
    lines: list[tuple[str, int]]
    if body.from_plan:
        lines = await plan_suggestions(conn, store_id=settings.store_id)
        if not lines:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=NOTHING_PLANNED)
    else:
        lines = [(line.sku.strip().upper(), line.quantity) for line in body.lines]
    try:
        po_id = await create_order(
            conn,
            supplier_id=body.supplier_id,
            lines=lines,
            settings=settings,
            actor=principal.actor,
        )
        costs = {
            n: (line.quantity, line.unit_cost)
            for n, line in enumerate(body.lines, start=1)
            if line.unit_cost is not None
        }
        if costs:
            await save_draft_lines(
                conn,
                po_id,
                changes={n: (qty, cost) for n, (qty, cost) in costs.items() if cost is not None},
                new_line=None,
                actor=principal.actor,
            )
    except PurchaseRejected as error:
        raise _refused(error) from None
    return await _order(conn, po_id)


@router.get("/purchase-orders/{po_id}", response_model=OrderOut, responses={**NOT_FOUND})
async def get_one_order(po_id: str, conn: TransactionDep, _: PurchasingReader) -> OrderOut:
    """The order with its lines: ordered, cost, received, still to come."""
    return await _order(conn, po_id)


async def _act(conn: AsyncConnection, po_id: str, action: Any) -> OrderOut:
    await _order(conn, po_id)  # 404 first
    try:
        await action()
    except PurchaseRejected as error:
        raise _refused(error) from None
    return await _order(conn, po_id)


@router.post(
    "/purchase-orders/{po_id}/order",
    response_model=OrderOut,
    responses={**NOT_FOUND, **CONFLICT},
)
async def post_place_order(
    po_id: str, conn: TransactionDep, settings: SettingsDep, principal: PurchasingWriter
) -> OrderOut:
    """Draft -> ordered; expected on today + the supplier's lead time."""
    return await _act(
        conn,
        po_id,
        lambda: place_order(conn, po_id, today=settings.today(), actor=principal.actor),
    )


@router.post(
    "/purchase-orders/{po_id}/cancel",
    response_model=OrderOut,
    responses={**NOT_FOUND, **CONFLICT},
)
async def post_cancel_order(
    po_id: str, conn: TransactionDep, principal: PurchasingWriter
) -> OrderOut:
    """Cancel a draft or an order not wholly received (what arrived stays received)."""
    return await _act(conn, po_id, lambda: cancel_order(conn, po_id, actor=principal.actor))


@router.post(
    "/purchase-orders/{po_id}/receive",
    response_model=Received,
    responses={**NOT_FOUND, **CONFLICT, **REFUSED},
)
async def post_receive_order(
    po_id: str,
    body: ReceiveIn,
    conn: TransactionDep,
    relay: RelayDep,
    settings: SettingsDep,
    principal: PurchasingWriter,
) -> Received:
    """Goods received against an ordered order, per line (a part is fine): one
    `stock.received` event through the pipeline with the order's id and costs. More than
    is still to come is refused (422) unless `allow_over`."""
    await _order(conn, po_id)
    received: dict[int, int] = {}
    for line in body.lines:
        received[line.line_no] = received.get(line.line_no, 0) + line.quantity
    try:
        event = await receive_against(
            conn,
            po_id,
            received,
            allow_over=body.allow_over,
            settings=settings,
            user=principal.name,
            actor=principal.actor,
        )
    except PurchaseRejected as error:
        raise _refused(error) from None
    after_commit(conn, relay.wake)
    return Received(receipt=event, order=await _order(conn, po_id))
