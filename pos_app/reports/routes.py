from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from pos_app.auth.deps import require_scope
from pos_app.auth.roles import REPORTS_READ
from pos_app.deps import ConnectionDep, SettingsDep
from pos_app.reports.service import SalesSummary, sales_summary

router = APIRouter(
    prefix="/api/v1/reports", tags=["reports"], dependencies=[Depends(require_scope(REPORTS_READ))]
)


@router.get("/summary", response_model=SalesSummary)
async def get_summary(
    conn: ConnectionDep,
    settings: SettingsDep,
    store_id: str | None = None,
    top: Annotated[int, Query(ge=1, le=100)] = 10,
) -> SalesSummary:
    """Totals, sales by year and month, and the best products by revenue and units."""
    return await sales_summary(conn, store_id=store_id or settings.store_id, top=top)
