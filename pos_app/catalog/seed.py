"""Load a catalog CSV (products with opening stock) into MySQL.

Products are upserted by SKU. A stock row is created only for a product the store
has never stocked, so seeding again never resets what the stream job counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.dialects.mysql import insert

from pos_app.catalog.barcodes import ean13_check_digit, ean13_for_sku
from pos_app.csvfile import UnreadableFile, clean_header, read_csv
from pos_app.db.engine import make_sync_engine
from pos_app.db.tables import product_stores, products, stocks
from pos_app.i18n.zawgyi import to_unicode
from pos_app.settings import Settings

COLUMNS = (
    "sku",
    "name",
    "name_my",
    "category",
    "size",
    "colour",
    "unit_price",
    "reorder_point",
    "opening_stock",
)


class CatalogError(ValueError):
    pass


__all__ = ["CatalogError", "CatalogRow", "ean13_check_digit", "ean13_for_sku", "parse_catalog"]


@dataclass(frozen=True)
class CatalogRow:
    sku: str
    name: str
    name_my: str | None
    category: str
    size: str | None
    colour: str | None
    unit_price: Decimal
    reorder_point: int
    opening_stock: int
    barcode: str | None = None


def parse_catalog(path: Path) -> list[CatalogRow]:
    """Parse and check every row; errors name the line."""
    rows: list[CatalogRow] = []
    try:
        lines = read_csv(path).rows()
    except UnreadableFile as error:
        raise CatalogError(str(error)) from None
    _, header = next(lines, (1, []))
    fieldnames = clean_header(header)
    missing = set(COLUMNS) - set(fieldnames)
    if missing:
        raise CatalogError(f"{path.name}: missing columns {', '.join(sorted(missing))}")
    for line, cells in lines:
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(fieldnames):
            raise CatalogError(
                f"{path.name} line {line}: expected {len(fieldnames)} fields, found {len(cells)}"
            )
        record = dict(zip(fieldnames, cells, strict=True))
        try:
            price = Decimal(record["unit_price"])
            reorder, opening = int(record["reorder_point"]), int(record["opening_stock"])
        except (InvalidOperation, ValueError) as error:
            raise CatalogError(f"{path.name} line {line}: {error}") from None
        if not record["sku"] or price <= 0 or reorder < 0 or opening < 0:
            raise CatalogError(f"{path.name} line {line}: empty SKU or negative number")
        # The barcode column is optional: a SKU without one gets its in-store EAN-13.
        barcode = (record.get("barcode") or "").strip() or ean13_for_sku(record["sku"].strip())
        if not (barcode.isdigit() and 8 <= len(barcode) <= 14):
            raise CatalogError(f"{path.name} line {line}: barcode must be 8 to 14 digits")
        rows.append(
            CatalogRow(
                sku=record["sku"].strip(),
                name=to_unicode(record["name"].strip()),
                name_my=to_unicode(record["name_my"].strip()) or None,
                category=record["category"].strip(),
                size=record["size"].strip() or None,
                colour=record["colour"].strip() or None,
                unit_price=price,
                reorder_point=reorder,
                opening_stock=opening,
                barcode=barcode,
            )
        )
    return rows


def load_catalog_csv(settings: Settings, path: Path) -> tuple[int, int]:
    return save_catalog(settings, parse_catalog(path), store_id=settings.store_id)


def save_catalog(settings: Settings, rows: list[CatalogRow], *, store_id: str) -> tuple[int, int]:
    """Upsert the products, sold at `store_id` (and wherever they were already sold); give
    the store a stock row for each product it never had.
    Returns (products added, products updated)."""
    engine = make_sync_engine(settings)
    try:
        with engine.begin() as conn:
            known = set(conn.scalars(select(products.c.sku)))
            upsert = insert(products).values([row.__dict__ for row in rows])
            conn.execute(
                upsert.on_duplicate_key_update(
                    {
                        c: upsert.inserted[c]
                        for c in (*COLUMNS, "barcode")
                        if c not in ("sku", "opening_stock")
                    }
                )
            )
            conn.execute(
                insert(product_stores)
                .prefix_with("IGNORE")
                .values([{"store_id": store_id, "sku": row.sku} for row in rows])
            )
            conn.execute(
                insert(stocks)
                .prefix_with("IGNORE")
                .values(
                    [
                        {
                            "store_id": store_id,
                            "sku": row.sku,
                            "stock_quantity": row.opening_stock,
                            "on_hand": row.opening_stock,
                        }
                        for row in rows
                    ]
                )
            )
    finally:
        engine.dispose()
    added = sum(1 for row in rows if row.sku not in known)
    return added, len(rows) - added
