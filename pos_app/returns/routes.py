from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, status

from pos_app.auth.deps import Principal, require_scope
from pos_app.auth.roles import RETURNS_WRITE, SALES_READ
from pos_app.contract import SaleReturned
from pos_app.db.unit_of_work import after_commit
from pos_app.deps import RelayDep, SettingsDep, TransactionDep
from pos_app.returns.schemas import ReturnIn, SaleDetail
from pos_app.returns.service import ReturnRejected, find_sale, record_return

router = APIRouter(prefix="/api/v1", tags=["sales"])
SaleId = Annotated[str, Path(min_length=1, max_length=40)]


@router.get("/sales/{sale_id}", response_model=SaleDetail)
async def get_sale(
    sale_id: SaleId,
    conn: TransactionDep,
    settings: SettingsDep,
    _: Annotated[Principal, Depends(require_scope(SALES_READ))],
) -> SaleDetail:
    """A sale with, for each line, how many were returned and how many still can be."""
    sale = await find_sale(conn, sale_id, settings=settings)
    if sale is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no sale {sale_id}")
    return sale


@router.post(
    "/sales/{sale_id}/returns", status_code=status.HTTP_201_CREATED, response_model=SaleReturned
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
            cashier=principal.name,
            actor=principal.actor,
        )
    except ReturnRejected as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(error)) from None
    if event is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no sale {sale_id}")
    after_commit(conn, relay.wake)
    return event
