from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, status

from pos_app.auth.deps import Principal, require_scope
from pos_app.auth.roles import RETURNS_WRITE, SALES_READ, SALES_WRITE
from pos_app.contract import SaleReturned
from pos_app.db.unit_of_work import after_commit
from pos_app.deps import RelayDep, SettingsDep, TransactionDep
from pos_app.problems import AUTHENTICATED, WITH_BODY, problems
from pos_app.returns.flows import exchange
from pos_app.returns.schemas import ExchangeIn, ExchangeOut, ReturnIn, SaleDetail
from pos_app.returns.service import ReturnRejected, find_sale, record_return
from pos_app.sales.schemas import SaleLineIn
from pos_app.sales.service import SaleRejected

router = APIRouter(prefix="/api/v1", tags=["sales"], responses=problems(AUTHENTICATED, 422))
SaleId = Annotated[str, Path(min_length=1, max_length=40)]


@router.get("/sales/{sale_id}", response_model=SaleDetail, responses=problems(404))
async def get_sale(
    sale_id: SaleId,
    conn: TransactionDep,
    settings: SettingsDep,
    who: Annotated[Principal, Depends(require_scope(SALES_READ))],
) -> SaleDetail:
    """A sale with, for each line, how many were returned and how many still can be
    (a sale of a store the caller does not work for is 404)."""
    sale = await find_sale(conn, sale_id, settings=settings, stores=who.stores)
    if sale is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no sale {sale_id}")
    return sale


@router.post(
    "/sales/{sale_id}/returns",
    status_code=status.HTTP_201_CREATED,
    response_model=SaleReturned,
    responses=problems(404, WITH_BODY),
)
async def create_return(
    sale_id: SaleId,
    body: ReturnIn,
    conn: TransactionDep,
    relay: RelayDep,
    settings: SettingsDep,
    principal: Annotated[Principal, Depends(require_scope(RETURNS_WRITE))],
) -> SaleReturned:
    """Take goods back from a sale: stock goes up and the refund comes off net sales,
    once the pipeline has applied the `sale.returned` event. Needs `returns:write`
    (a refund is a manager's task; `sales:write` does not allow it)."""
    try:
        event = await record_return(
            conn,
            sale_id,
            body,
            settings=settings,
            stores=principal.stores,
            cashier=principal.name,
            actor=principal.actor,
        )
    except ReturnRejected as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(error)) from None
    if event is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no sale {sale_id}")
    after_commit(conn, relay.wake)
    return event


@router.post(
    "/sales/{sale_id}/exchanges",
    status_code=status.HTTP_201_CREATED,
    response_model=ExchangeOut,
    responses=problems(404, WITH_BODY),
    dependencies=[Depends(require_scope(SALES_WRITE))],
)
async def create_exchange(
    sale_id: SaleId,
    body: ExchangeIn,
    conn: TransactionDep,
    relay: RelayDep,
    settings: SettingsDep,
    principal: Annotated[Principal, Depends(require_scope(RETURNS_WRITE))],
) -> ExchangeOut:
    """Take goods back from a sale of this store and sell others instead, in one step:
    the return and the new sale are recorded together or not at all, both under
    `take_back.refund_method`, which settles the difference. Needs `returns:write` and
    `sales:write`."""

    async def instead() -> list[SaleLineIn]:
        return body.lines

    try:
        # The returns:write scope is the refund's approval (a cashier's needs a PIN).
        done = await exchange(
            conn,
            settings=settings,
            cashier=principal,
            sale_id=sale_id,
            body=body.take_back,
            new_lines=instead,
            approval=None,
        )
    except (ReturnRejected, SaleRejected) as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(error)) from None
    if done is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no sale {sale_id} at this store")
    after_commit(conn, relay.wake)
    return ExchangeOut(returned=done.returned, sale=done.sale, difference=done.difference)
