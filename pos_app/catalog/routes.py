"""The catalogue's REST API: list with search and paging, add, change."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from pydantic import BaseModel

from pos_app.auth.deps import Principal, require_any_scope, require_scope
from pos_app.auth.roles import CATALOG_READ, CATALOG_WRITE, INVENTORY_WRITE
from pos_app.catalog.flows import add_products
from pos_app.catalog.products import (
    ActiveFilter,
    ProductIn,
    ProductPatch,
    ProductRejected,
    ProductRow,
    search_products,
    update_product,
)
from pos_app.db.unit_of_work import after_commit
from pos_app.deps import RelayDep, SettingsDep, TransactionDep
from pos_app.problems import AUTHENTICATED, OTHER_STORE, WITH_BODY, problems

router = APIRouter(prefix="/api/v1", tags=["catalog"], responses=problems(AUTHENTICATED, 422))
CatalogReader = Annotated[Principal, Depends(require_scope(CATALOG_READ))]
CatalogWriter = Annotated[Principal, Depends(require_scope(CATALOG_WRITE))]
ProductEditor = Annotated[Principal, Depends(require_any_scope(CATALOG_WRITE, INVENTORY_WRITE))]
MAX_LIMIT = 500


class ProductCreated(BaseModel):
    product: ProductRow
    opening_receipt_id: str | None  # the receipt carrying the opening stock, if any


@router.get("/products", response_model=list[ProductRow], responses=problems(OTHER_STORE))
async def get_products(
    response: Response,
    conn: TransactionDep,
    settings: SettingsDep,
    who: CatalogReader,
    q: str = Query("", max_length=100, description="SKU, barcode, name or Burmese name"),
    category: str = Query("", max_length=60),
    active: Annotated[ActiveFilter, Query(description="true, false (retired) or all")] = "true",
    offset: int = Query(0, ge=0),
    limit: int = Query(MAX_LIMIT, ge=1, le=MAX_LIMIT),
    store: Annotated[
        str | None,
        Query(
            min_length=1, max_length=40, description="a store id; this counter's store when absent"
        ),
    ] = None,
) -> list[ProductRow]:
    """The products a store sells, by category and name (active ones unless `active`
    says otherwise). `X-Total-Count` says how many match; page with `offset` and
    `limit`."""
    page = await search_products(
        conn,
        store_id=who.store(store, settings),
        q=q,
        category=category,
        active=active,
        offset=offset,
        limit=limit,
    )
    response.headers["X-Total-Count"] = str(page.total)
    return page.items


@router.post(
    "/products",
    status_code=status.HTTP_201_CREATED,
    response_model=ProductCreated,
    responses=problems(409, WITH_BODY),
)
async def post_product(
    body: ProductIn,
    conn: TransactionDep,
    relay: RelayDep,
    settings: SettingsDep,
    principal: CatalogWriter,
) -> ProductCreated:
    """A new product. A blank barcode gets the shop's own EAN-13; `opening_stock`
    reaches on hand through the pipeline, as a receipt."""
    try:
        stored, receipt = await add_products(
            conn, [body], settings=settings, user=principal.name, actor=principal.actor
        )
    except ProductRejected as error:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(error)) from None
    after_commit(conn, relay.wake)
    row = ProductRow.model_validate(stored[0].model_dump() | {"on_hand": 0})
    return ProductCreated(product=row, opening_receipt_id=receipt.receipt_id if receipt else None)


@router.patch("/products/{sku}", response_model=ProductRow, responses=problems(404, 409, WITH_BODY))
async def patch_product(
    sku: str,
    body: ProductPatch,
    conn: TransactionDep,
    settings: SettingsDep,
    principal: ProductEditor,
) -> ProductRow:
    """Change a product: only the fields sent. A new price is charged from the next sale
    on, and kept in the price history. The reorder point alone also needs only
    `inventory:write`; anything else needs `catalog:write`."""
    fields = set(body.model_fields_set)
    allowed = CATALOG_WRITE in principal.scopes or (
        fields <= {"reorder_point"} and INVENTORY_WRITE in principal.scopes
    )
    if not allowed:
        needed = f"this needs the scope {CATALOG_WRITE}"
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=needed)
    try:
        _, after = await update_product(
            conn, sku, body, store_id=settings.store_id, actor=principal.actor
        )
    except LookupError as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(error)) from None
    except ProductRejected as error:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(error)) from None
    return after
