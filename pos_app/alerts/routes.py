from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status

from pos_app.alerts.flows import acknowledge_alert
from pos_app.alerts.service import StockAlert, list_alerts
from pos_app.auth.deps import Principal, require_scope
from pos_app.auth.roles import INVENTORY_WRITE, STOCK_READ
from pos_app.deps import SettingsDep, TransactionDep
from pos_app.problems import AUTHENTICATED, OTHER_STORE, problems

router = APIRouter(prefix="/api/v1", tags=["alerts"], responses=problems(AUTHENTICATED, 422))


@router.get("/alerts", response_model=list[StockAlert], responses=problems(OTHER_STORE))
async def get_alerts(
    conn: TransactionDep,
    settings: SettingsDep,
    who: Annotated[Principal, Depends(require_scope(STOCK_READ))],
    store_id: str | None = None,
    open_only: bool = Query(False, alias="open", description="only unacknowledged alerts"),
    limit: int = Query(100, ge=1, le=1000),
) -> list[StockAlert]:
    """Reorder-point crossings, newest first: one per crossing, not one per sale; of
    `store_id`, else of every store the caller works for."""
    stores = [who.store(store_id, settings)] if store_id else sorted(who.stores)
    return await list_alerts(conn, stores=stores, open_only=open_only, limit=limit)


@router.post(
    "/alerts/{alert_id}/acknowledge",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(404),
)
async def post_acknowledge(
    alert_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    conn: TransactionDep,
    principal: Annotated[Principal, Depends(require_scope(INVENTORY_WRITE))],
) -> None:
    if (
        await acknowledge_alert(
            conn, alert_id, by=principal.name, actor=principal.actor, stores=principal.stores
        )
        is None
    ):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no alert {alert_id}")
