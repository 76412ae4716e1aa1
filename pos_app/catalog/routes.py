from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from pos_app.auth.deps import require_scope
from pos_app.auth.roles import CATALOG_READ
from pos_app.catalog.service import Product, list_products
from pos_app.deps import ConnectionDep, SettingsDep

router = APIRouter(
    prefix="/api/v1", tags=["catalog"], dependencies=[Depends(require_scope(CATALOG_READ))]
)


@router.get("/products", response_model=list[Product])
async def get_products(
    conn: ConnectionDep,
    settings: SettingsDep,
    store: Annotated[
        str | None,
        Query(
            min_length=1, max_length=40, description="a store id; this counter's store when absent"
        ),
    ] = None,
) -> list[Product]:
    """The active products a store sells."""
    return await list_products(conn, store_id=store or settings.store_id)
