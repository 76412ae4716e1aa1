from __future__ import annotations

from fastapi import APIRouter

from pos_app.catalog.service import Product, list_products
from pos_app.deps import ConnectionDep

router = APIRouter(prefix="/api/v1", tags=["catalog"])


@router.get("/products", response_model=list[Product])
async def get_products(conn: ConnectionDep) -> list[Product]:
    return await list_products(conn)
