from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, status

from pos_app.auth.deps import Principal, require_scope
from pos_app.auth.roles import RETURNS_WRITE, SALES_READ
from pos_app.contract import SaleReturned
from pos_app.db.unit_of_work import after_commit
from pos_app.deps import RelayDep, SettingsDep, TransactionDep
from pos_app.problems import AUTHENTICATED, WITH_BODY, problems
from pos_app.returns.schemas import ReturnIn, SaleDetail
from pos_app.returns.service import ReturnRejected, find_sale, record_return

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
