from __future__ import annotations

from fastapi import APIRouter, Depends

from pos_app.auth.deps import require_scope
from pos_app.auth.roles import CATALOG_READ
from pos_app.catalog.service import Product, list_products
from pos_app.deps import TransactionDep

router = APIRouter(
    prefix="/api/v1", tags=["catalog"], dependencies=[Depends(require_scope(CATALOG_READ))]
)


@router.get("/products", response_model=list[Product])
async def get_products(conn: TransactionDep) -> list[Product]:
    return await list_products(conn)
