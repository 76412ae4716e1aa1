from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from pos_app.auth.deps import require_scope
from pos_app.auth.roles import STOCK_READ
from pos_app.deps import ConnectionDep, SettingsDep
from pos_app.inventory.service import StockLevel, stock_levels

router = APIRouter(
    prefix="/api/v1", tags=["inventory"], dependencies=[Depends(require_scope(STOCK_READ))]
)


@router.get("/stock", response_model=list[StockLevel])
async def get_stock(
    conn: ConnectionDep,
    settings: SettingsDep,
    store_id: str | None = None,
    alerts: bool = Query(False, description="only SKUs at or under their reorder point"),
) -> list[StockLevel]:
    return await stock_levels(conn, store_id=store_id or settings.store_id, only_alerts=alerts)
