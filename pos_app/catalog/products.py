"""Adding and editing products: what a product must be, barcodes, prices and their
history, the list with search and paging. Services take the caller's connection and
never commit (the route's unit of work does)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Select, and_, func, insert, or_, select, text, update
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.api_types import STRICT_INPUT, LaxDecimal
from pos_app.auth.service import audit
from pos_app.catalog.barcodes import barcode_problem, ean13_for_sku
from pos_app.catalog.service import sold_at
from pos_app.db.tables import price_history, product_stores, products, stocks

MAX_PRICE = Decimal(100_000_000)  # 100 million kyat: a typo, not a longyi
MAX_UNITS = 100_000
PAGE_SIZE = 50
SKU_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,39}$")

# What people read when a product cannot be saved (one place, for translation).
SKU_TAKEN = "SKU {sku} is already in the catalogue"
BARCODE_TAKEN = "barcode {barcode} already belongs to {sku}"
BARCODE_TWICE = "barcode {barcode} is given to two new products"
SKU_TWICE = "SKU {sku} is given to two new products"
NO_SUCH_PRODUCT = "no product with SKU {sku}"
BAD_SKU = "a SKU is 1 to 40 capital letters, digits, '.', '_' or '-'"
WHOLE_KYAT = "a kyat price is a whole number"
NO_FREE_BARCODE = "no free in-store barcode for {sku}; type one"

ActiveFilter = Literal["true", "false", "all"]


class ProductRejected(ValueError):
    """The product cannot be saved as asked; the message says why (HTTP 4xx / page)."""


def _whole_kyat(value: Decimal | None) -> Decimal | None:
    if value is not None and value != value.to_integral_value():
        raise ValueError(WHOLE_KYAT)
    return value


Price = Annotated[LaxDecimal, Field(gt=0, le=MAX_PRICE)]
Cost = Annotated[LaxDecimal, Field(ge=0, le=MAX_PRICE)]
Units = Annotated[int, Field(ge=0, le=MAX_UNITS)]
Text40 = Annotated[str, Field(max_length=40)]


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


class ProductIn(BaseModel):
    """A new product, from the form, the API or an import row."""

    model_config = STRICT_INPUT | ConfigDict(str_strip_whitespace=True)

    sku: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=200)
    name_my: str | None = Field(default=None, max_length=200)
    category: str = Field(min_length=1, max_length=60)
    style: str | None = Field(default=None, max_length=120)
    colour: str | None = Field(default=None, max_length=40)
    size: str | None = Field(default=None, max_length=20)
    unit_price: Price
    cost_price: Cost | None = None
    barcode: str | None = Field(default=None, max_length=14)
    reorder_point: Units = 0
    active: bool = True
    opening_stock: Units = 0

    @field_validator("sku")
    @classmethod
    def _sku(cls, value: str) -> str:
        value = value.upper()
        if not SKU_PATTERN.match(value):
            raise ValueError(BAD_SKU)
        return value

    @field_validator("name_my", "style", "colour", "size", "barcode", "cost_price", mode="before")
    @classmethod
    def _optional(cls, value: Any) -> Any:
        return _blank_to_none(value)

    @field_validator("unit_price", "cost_price")
    @classmethod
    def _kyat(cls, value: Decimal | None) -> Decimal | None:
        return _whole_kyat(value)

    @field_validator("barcode")
    @classmethod
    def _barcode(cls, value: str | None) -> str | None:
        if value is not None and (problem := barcode_problem(value)):
            raise ValueError(problem)
        return value


class ProductPatch(BaseModel):
    """A change to a product: only the fields sent change. An empty string clears an
    optional field; a barcode cleared is made again by the shop."""

    model_config = STRICT_INPUT | ConfigDict(str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=1, max_length=200)
    name_my: str | None = Field(default=None, max_length=200)
    category: str | None = Field(default=None, min_length=1, max_length=60)
    style: str | None = Field(default=None, max_length=120)
    colour: str | None = Field(default=None, max_length=40)
    size: str | None = Field(default=None, max_length=20)
    unit_price: Price | None = None
    cost_price: Cost | None = None
    barcode: str | None = Field(default=None, max_length=14)
    reorder_point: Units | None = None
    active: bool | None = None

    @field_validator("cost_price", mode="before")
    @classmethod
    def _cleared(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("unit_price", "cost_price")
    @classmethod
    def _kyat(cls, value: Decimal | None) -> Decimal | None:
        return _whole_kyat(value)

    @field_validator("barcode")
    @classmethod
    def _barcode(cls, value: str | None) -> str | None:
        if value and (problem := barcode_problem(value)):
            raise ValueError(problem)
        return value

    def changes(self) -> dict[str, Any]:
        """The fields sent, with "" as None (cleared)."""
        return {k: (None if v == "" else v) for k, v in self.model_dump(exclude_unset=True).items()}


class ProductRow(BaseModel):
    """A product as the back office lists it, with the store's on hand."""

    sku: str
    name: str
    name_my: str | None
    category: str
    style: str | None
    colour: str | None
    size: str | None
    unit_price: Decimal
    cost_price: Decimal | None
    barcode: str | None
    reorder_point: int
    active: bool
    on_hand: int | None = None  # None: the store has never stocked it


class ProductPage(BaseModel):
    items: list[ProductRow]
    total: int
    offset: int
    limit: int


class PriceChange(BaseModel):
    sku: str
    old_price: Decimal | None
    new_price: Decimal
    changed_by: str
    changed_at: Any


EDITABLE = (
    "name",
    "name_my",
    "category",
    "style",
    "colour",
    "size",
    "unit_price",
    "cost_price",
    "barcode",
    "reorder_point",
    "active",
)


def _listing(store_id: str) -> Select[Any]:
    return select(
        *(products.c[c] for c in ("sku", *EDITABLE)),
        stocks.c.on_hand,
    ).select_from(
        products.outerjoin(
            stocks, and_(stocks.c.sku == products.c.sku, stocks.c.store_id == store_id)
        )
    )


async def search_products(
    conn: AsyncConnection,
    *,
    store_id: str,
    q: str = "",
    category: str = "",
    active: ActiveFilter = "true",
    offset: int = 0,
    limit: int = PAGE_SIZE,
) -> ProductPage:
    """The store's products matching a search (SKU, barcode, English or Burmese name,
    style), a category and active/retired, by category and name, one page at a time."""
    conditions = [sold_at(store_id)]
    if q.strip():
        like = f"%{q.strip()}%"
        conditions.append(
            or_(
                products.c.sku.like(like),
                products.c.barcode == q.strip(),
                products.c.name.like(like),
                products.c.name_my.like(like),
                products.c.style.like(like),
            )
        )
    if category:
        conditions.append(products.c.category == category)
    if active != "all":
        conditions.append(products.c.active.is_(active == "true"))
    total = await conn.scalar(select(func.count()).select_from(products).where(*conditions))
    rows = await conn.execute(
        _listing(store_id)
        .where(*conditions)
        .order_by(products.c.category, products.c.name, products.c.sku)
        .offset(max(0, offset))
        .limit(max(1, limit))
    )
    return ProductPage(
        items=[ProductRow.model_validate(dict(r)) for r in rows.mappings()],
        total=int(total or 0),
        offset=max(0, offset),
        limit=max(1, limit),
    )


async def get_product(conn: AsyncConnection, sku: str, *, store_id: str) -> ProductRow | None:
    row = (await conn.execute(_listing(store_id).where(products.c.sku == sku))).mappings().first()
    return ProductRow.model_validate(dict(row)) if row else None


async def categories(conn: AsyncConnection) -> list[str]:
    return list(await conn.scalars(select(products.c.category).distinct().order_by("category")))


async def price_changes(conn: AsyncConnection, sku: str) -> list[PriceChange]:
    rows = await conn.execute(
        select(price_history).where(price_history.c.sku == sku).order_by(price_history.c.id.desc())
    )
    return [PriceChange.model_validate(dict(r)) for r in rows.mappings()]


async def _barcode_owners(conn: AsyncConnection, codes: Sequence[str]) -> dict[str, str]:
    if not codes:
        return {}
    rows = await conn.execute(
        select(products.c.barcode, products.c.sku).where(products.c.barcode.in_(list(codes)))
    )
    return {r.barcode: r.sku for r in rows}


async def check_new_products(conn: AsyncConnection, items: Sequence[ProductIn]) -> list[ProductIn]:
    """The products with their barcodes settled (a blank one gets the shop's own), or
    ProductRejected naming every SKU or barcode taken, here or in the catalogue."""
    problems: list[str] = []
    skus = [item.sku for item in items]
    for sku in sorted({s for s in skus if skus.count(s) > 1}):
        problems.append(SKU_TWICE.format(sku=sku))
    taken = set(await conn.scalars(select(products.c.sku).where(products.c.sku.in_(skus))))
    problems += [SKU_TAKEN.format(sku=sku) for sku in sorted(taken)]
    typed = [item.barcode for item in items if item.barcode]
    for code in sorted({c for c in typed if typed.count(c) > 1}):
        problems.append(BARCODE_TWICE.format(barcode=code))
    owners = await _barcode_owners(conn, typed)
    problems += [BARCODE_TAKEN.format(barcode=c, sku=s) for c, s in sorted(owners.items())]
    if problems:
        raise ProductRejected("; ".join(problems))
    used = set(typed)
    settled = []
    for item in items:
        if item.barcode is None:
            code = await _free_in_store_code(conn, item.sku, used)
            item = item.model_copy(update={"barcode": code})
        used.add(item.barcode or "")
        settled.append(item)
    return settled


async def _free_in_store_code(conn: AsyncConnection, sku: str, used: set[str]) -> str:
    """The SKU's in-store code, or a further draw if another product has it."""
    for attempt in range(20):
        code = ean13_for_sku(sku, attempt)
        owners = await _barcode_owners(conn, [code])
        if code not in used and set(owners.values()) <= {sku}:
            return code
    raise ProductRejected(NO_FREE_BARCODE.format(sku=sku))


async def insert_products(
    conn: AsyncConnection, items: Sequence[ProductIn], *, store_id: str, actor: str
) -> None:
    """Store checked products (check_new_products), each with its first price in the
    history, sold at the store, with a stock row of nothing there: opening stock arrives as an
    inventory event, so on hand has one writer, the stream job."""
    if not items:
        return
    await conn.execute(
        insert(products),
        [{**item.model_dump(exclude={"opening_stock"}), "opening_stock": 0} for item in items],
    )
    await conn.execute(
        insert(price_history),
        [
            {"sku": item.sku, "old_price": None, "new_price": item.unit_price, "changed_by": actor}
            for item in items
        ],
    )
    await conn.execute(
        insert(product_stores), [{"store_id": store_id, "sku": item.sku} for item in items]
    )
    await conn.execute(
        mysql_insert(stocks)
        .prefix_with("IGNORE")
        .values(
            [
                {"store_id": store_id, "sku": item.sku, "stock_quantity": 0, "on_hand": 0}
                for item in items
            ]
        )
    )
    for item in items:
        await audit(
            conn,
            actor=actor,
            action="product.created",
            target=f"product:{item.sku}",
            details={
                "name": item.name,
                "unit_price": item.unit_price,
                "barcode": item.barcode,
                "opening_stock": item.opening_stock,
            },
        )


async def update_product(
    conn: AsyncConnection, sku: str, patch: ProductPatch, *, store_id: str, actor: str
) -> tuple[ProductRow, ProductRow]:
    """Apply the fields sent; returns the product before and after. A new price is in
    force for the next sale at once (sales are priced from the catalogue when paid) and
    goes into the price history; past sales keep the price they were sold at."""
    before = await get_product(conn, sku, store_id=store_id)
    if before is None:
        raise LookupError(NO_SUCH_PRODUCT.format(sku=sku))
    changes = patch.changes()
    if "barcode" in changes and changes["barcode"] is None:
        changes["barcode"] = await _free_in_store_code(conn, sku, set())
    if changes.get("barcode") and changes["barcode"] != before.barcode:
        owners = await _barcode_owners(conn, [changes["barcode"]])
        if owners:
            code, owner = next(iter(owners.items()))
            raise ProductRejected(BARCODE_TAKEN.format(barcode=code, sku=owner))
    for required in ("name", "category", "unit_price", "reorder_point", "active"):
        if required in changes and changes[required] is None:
            del changes[required]  # cannot be cleared
    diff = {
        field: (getattr(before, field), value)
        for field, value in changes.items()
        if getattr(before, field) != value
    }
    if not diff:
        return before, before
    await conn.execute(
        update(products)
        .where(products.c.sku == sku)
        .values(**{f: new for f, (_, new) in diff.items()}, updated_at=text("CURRENT_TIMESTAMP(3)"))
    )
    if "unit_price" in diff:
        old, new = diff["unit_price"]
        await conn.execute(
            insert(price_history).values(sku=sku, old_price=old, new_price=new, changed_by=actor)
        )
        await audit(
            conn,
            actor=actor,
            action="product.price_changed",
            target=f"product:{sku}",
            details={"old": old, "new": new},
        )
    await audit(
        conn,
        actor=actor,
        action="product.updated",
        target=f"product:{sku}",
        details={field: {"old": old, "new": new} for field, (old, new) in diff.items()},
    )
    after = await get_product(conn, sku, store_id=store_id)
    assert after is not None
    return before, after
