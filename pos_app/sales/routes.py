from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Response, status

from pos_app.auth.deps import Principal, require_scope
from pos_app.auth.roles import SALES_WRITE
from pos_app.contract import SaleCompleted
from pos_app.db.unit_of_work import after_commit
from pos_app.deps import RelayDep, SettingsDep, TransactionDep
from pos_app.problems import AUTHENTICATED, WITH_BODY, problems
from pos_app.sales.schemas import SaleIn
from pos_app.sales.service import (
    IdempotencyConflict,
    SaleRejected,
    discount_limit,
    record_sale,
)

router = APIRouter(prefix="/api/v1", tags=["sales"], responses=problems(AUTHENTICATED, 422))


@router.post(
    "/sales",
    status_code=status.HTTP_201_CREATED,
    response_model=SaleCompleted,
    responses=problems(WITH_BODY),
)
async def create_sale(
    sale: SaleIn,
    response: Response,
    conn: TransactionDep,
    relay: RelayDep,
    settings: SettingsDep,
    principal: Annotated[Principal, Depends(require_scope(SALES_WRITE))],
    idempotency_key: Annotated[
        str | None,
        Header(
            min_length=1,
            max_length=100,
            description="Retry-safe: the same key and body return the first sale, not a second.",
        ),
    ] = None,
) -> SaleCompleted:
    """Ring up a sale: lines of SKU and quantity, priced from the catalog.

    201 means the sale is recorded (stored with its event in MySQL); the pipeline picks
    it up from there even if Kafka is down at this moment."""
    sale = sale.model_copy(update={"cashier": principal.seller})
    try:
        recorded = await record_sale(
            conn,
            sale,
            settings=settings,
            client=principal.actor,
            idempotency_key=idempotency_key,
            max_discount=discount_limit(principal.role),
        )
    except (SaleRejected, IdempotencyConflict) as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(error)) from None
    if recorded.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    else:
        after_commit(conn, relay.wake)
    return recorded.event
