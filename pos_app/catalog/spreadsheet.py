"""The catalogue as a spreadsheet: export to CSV (UTF-8 with a BOM, so Excel shows
Burmese) or .xlsx, and import with a preview first: rows to add, rows to change (old ->
new), bad rows with their line numbers and reasons. Nothing changes until confirmed.

An import row names a product by SKU: a new SKU is added (with `opening_stock`, if the
file has that column, through the pipeline); a known one changes in the columns the file
has, and an empty cell in an optional column clears it."""

from __future__ import annotations

import csv
import io
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from openpyxl import Workbook, load_workbook
from pydantic import ValidationError
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.catalog.flows import add_products
from pos_app.catalog.products import (
    ProductIn,
    ProductPatch,
    ProductRow,
    search_products,
    update_product,
)
from pos_app.contract import StockReceived
from pos_app.csvfile import UnreadableFile, clean_header, decode
from pos_app.db.tables import catalog_import_drafts, products
from pos_app.reports.export import FORMULA_STARTS, safe_cell
from pos_app.settings import Settings

COLUMNS = (
    "sku",
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
IMPORT_ONLY = ("opening_stock",)  # read for new products; on hand is not exported
REQUIRED = ("sku",)
MAX_ROWS = 5000

NO_SKU_COLUMN = "{name}: the first row must name the columns, with a sku column"
UNKNOWN_COLUMNS = "{name}: unknown columns {columns} (known: {known})"
NOT_A_SPREADSHEET = "{name}: not a .csv or .xlsx file"
TOO_MANY_ROWS = "{name}: more than 5000 rows"
EMPTY_SKU = "no SKU"
TWICE = "SKU {sku} is also on line {line}"
BARCODE_TWICE = "barcode {barcode} is also on line {line}"
BARCODE_TAKEN = "barcode {barcode} already belongs to {sku}"
BAD_ACTIVE = "active: write yes or no"
NOT_NUMBER = "{field}: not a number"
DRAFT_GONE = "this import was already applied or does not exist; upload the file again"


@dataclass
class Preview:
    filename: str
    adds: list[tuple[int, ProductIn]] = field(default_factory=list)
    changes: list[tuple[int, str, dict[str, tuple[Any, Any]]]] = field(default_factory=list)
    bad: list[tuple[int, str]] = field(default_factory=list)
    unchanged: int = 0
    draft_id: str | None = None

    @property
    def good_rows(self) -> int:
        return len(self.adds) + len(self.changes)


# --- Export ------------------------------------------------------------------------------


async def export_rows(conn: AsyncConnection, *, store_id: str) -> list[dict[str, Any]]:
    """Every product the store sells, on sale or retired, as export rows."""
    page = await search_products(conn, store_id=store_id, active="all", limit=10**6)
    return [_export_row(item) for item in page.items]


def _export_row(item: ProductRow) -> dict[str, Any]:
    row = {column: getattr(item, column) for column in COLUMNS}
    row["active"] = "yes" if item.active else "no"
    return row


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")  # 64000.00 -> "64000"
    return str(safe_cell(str(value)))  # "=..." as text, not a formula; read back below


def to_csv(rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in COLUMNS])
    return "\ufeff".encode() + out.getvalue().encode()  # the BOM: Excel reads UTF-8


def to_xlsx(rows: list[dict[str, Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Catalogue"
    sheet.append(list(COLUMNS))
    for row in rows:
        # Every cell as text: a barcode stays 13 digits, not 2.00E+12.
        sheet.append([_cell(row[c]) for c in COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- Reading a file ----------------------------------------------------------------------


def read_table(name: str, data: bytes) -> list[tuple[int, dict[str, str]]]:
    """(line number, {column: text}) of each non-empty row, or UnreadableFile."""
    lowered = name.lower()
    if lowered.endswith(".xlsx"):
        header, rows = _xlsx_rows(name, data)
    elif lowered.endswith(".csv") or lowered.endswith(".txt"):
        table = decode(name, data)
        all_rows = list(table.rows())
        if not all_rows:
            raise UnreadableFile(NO_SKU_COLUMN.format(name=name))
        header, rows = clean_header(all_rows[0][1]), all_rows[1:]
    else:
        raise UnreadableFile(NOT_A_SPREADSHEET.format(name=name))
    header = [h.lower() for h in header]
    if "sku" not in header:
        raise UnreadableFile(NO_SKU_COLUMN.format(name=name))
    unknown = [h for h in header if h and h not in COLUMNS + IMPORT_ONLY]
    if unknown:
        raise UnreadableFile(
            UNKNOWN_COLUMNS.format(
                name=name, columns=", ".join(unknown), known=", ".join(COLUMNS + IMPORT_ONLY)
            )
        )
    if len(rows) > MAX_ROWS:
        raise UnreadableFile(TOO_MANY_ROWS.format(name=name))
    table_rows = []
    for line, cells in rows:
        if not any(cell.strip() for cell in cells):
            continue
        padded = [_unquoted(c) for c in cells] + [""] * (len(header) - len(cells))
        table_rows.append((line, {h: padded[i].strip() for i, h in enumerate(header) if h}))
    return table_rows


def _unquoted(cell: str) -> str:
    """A cell the export kept from being a formula ("'=x") as it was ("=x")."""
    if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS):
        return cell[1:]
    return cell


def _xlsx_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        # Excel keeps numbers as floats: 64000.0 is 64000, a 13-digit barcode stays whole.
        exact = Decimal(repr(value))
        return str(int(exact)) if exact == exact.to_integral_value() else str(exact)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _xlsx_rows(name: str, data: bytes) -> tuple[list[str], list[tuple[int, list[str]]]]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a file that is not .xlsx
        raise UnreadableFile(
            f"{name}: not an Excel .xlsx file ({error.__class__.__name__})"
        ) from None
    sheet = book.worksheets[0]
    rows = [
        (number, [_xlsx_text(v) for v in values])
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
    ]
    book.close()
    if not rows:
        raise UnreadableFile(NO_SKU_COLUMN.format(name=name))
    return clean_header(rows[0][1]), rows[1:]


# --- The preview ---------------------------------------------------------------------------


def _active(text_value: str) -> bool:
    value = text_value.strip().lower()
    if value in ("yes", "y", "true", "1", "on sale", "active"):
        return True
    if value in ("no", "n", "false", "0", "retired"):
        return False
    raise ValueError(BAD_ACTIVE)


def _problems(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"] if not isinstance(p, int))
        parts.append(f"{where}: {str(item['msg']).removeprefix('Value error, ')}")
    return "; ".join(parts)


def _clean_number(value: str) -> str:
    # "64,000" and "64000 Ks" are how people write kyat.
    return value.replace(",", "").removesuffix("Ks").strip()


async def preview_import(
    conn: AsyncConnection, filename: str, rows: list[tuple[int, dict[str, str]]], *, store_id: str
) -> Preview:
    """What the rows would do to the catalogue, changing nothing."""
    preview = Preview(filename=filename)
    skus = [r.get("sku", "").strip().upper() for _, r in rows]
    existing = {
        r["sku"]: ProductRow.model_validate(dict(r) | {"on_hand": None})
        for r in (
            await conn.execute(select(products).where(products.c.sku.in_([s for s in skus if s])))
        ).mappings()
    }
    owners = {
        r.barcode: r.sku
        for r in await conn.execute(
            select(products.c.barcode, products.c.sku).where(products.c.barcode.is_not(None))
        )
    }
    seen_sku: dict[str, int] = {}
    seen_barcode: dict[str, int] = {}
    for line, raw in rows:
        sku = raw.get("sku", "").strip().upper()
        if not sku:
            preview.bad.append((line, EMPTY_SKU))
            continue
        if sku in seen_sku:
            preview.bad.append((line, TWICE.format(sku=sku, line=seen_sku[sku])))
            continue
        seen_sku[sku] = line
        values: dict[str, Any] = {k: v for k, v in raw.items() if k != "sku"}
        try:
            for number in ("unit_price", "cost_price", "reorder_point", "opening_stock"):
                if values.get(number):
                    values[number] = _clean_number(values[number])
            if "active" in values:
                if values["active"]:
                    values["active"] = _active(values["active"])
                else:
                    del values["active"]
        except (ValueError, InvalidOperation) as error:
            preview.bad.append((line, str(error)))
            continue
        barcode = (values.get("barcode") or "").strip()
        if barcode:
            if barcode in seen_barcode:
                preview.bad.append(
                    (line, BARCODE_TWICE.format(barcode=barcode, line=seen_barcode[barcode]))
                )
                continue
            owner = owners.get(barcode)
            if owner is not None and owner != sku:
                preview.bad.append((line, BARCODE_TAKEN.format(barcode=barcode, sku=owner)))
                continue
            seen_barcode[barcode] = line
        before = existing.get(sku)
        try:
            if before is None:
                item = ProductIn.model_validate(
                    {"sku": sku, **{k: v for k, v in values.items() if v not in ("", None)}},
                    strict=False,
                )
                preview.adds.append((line, item))
            else:
                values.pop("opening_stock", None)  # on hand of a known product moves by events
                patch = ProductPatch.model_validate(values, strict=False)
                diff = _diff(before, patch)
                if diff:
                    preview.changes.append((line, sku, diff))
                else:
                    preview.unchanged += 1
        except ValidationError as error:
            preview.bad.append((line, _problems(error)))
    preview.bad.sort()
    return preview


def _diff(before: ProductRow, patch: ProductPatch) -> dict[str, tuple[Any, Any]]:
    changes = patch.changes()
    for required in ("name", "category", "unit_price", "reorder_point"):
        if required in changes and changes[required] is None:
            del changes[required]  # a blank required cell keeps what is there
    if "barcode" in changes and changes["barcode"] is None:
        del changes["barcode"]  # a blank barcode keeps the product's code
    return {
        column: (getattr(before, column), value)
        for column, value in changes.items()
        if getattr(before, column) != value
    }


# --- Drafts and applying them ----------------------------------------------------------------


async def save_draft(
    conn: AsyncConnection, preview: Preview, rows: list[tuple[int, dict[str, str]]], *, actor: str
) -> str:
    """Keep the file's rows until the manager confirms; returns the draft's id."""
    draft_id = secrets.token_hex(16)
    await conn.execute(
        catalog_import_drafts.insert().values(
            id=draft_id,
            filename=preview.filename[:200],
            uploaded_by=actor[:80],
            rows=json.dumps(rows, ensure_ascii=False),
        )
    )
    preview.draft_id = draft_id
    return draft_id


async def load_draft(
    conn: AsyncConnection, draft_id: str, *, actor: str
) -> tuple[str, list[tuple[int, dict[str, str]]]]:
    row = (
        await conn.execute(
            select(catalog_import_drafts)
            .where(
                catalog_import_drafts.c.id == draft_id,
                catalog_import_drafts.c.uploaded_by == actor[:80],
                catalog_import_drafts.c.applied_at.is_(None),
            )
            .with_for_update()
        )
    ).first()
    if row is None:
        raise LookupError(DRAFT_GONE)
    return row.filename, [(int(line), dict(values)) for line, values in json.loads(row.rows)]


async def apply_import(
    conn: AsyncConnection,
    preview: Preview,
    *,
    settings: Settings,
    user: str,
    actor: str,
) -> StockReceived | None:
    """Add and change the preview's good rows, in the caller's transaction; bad rows are
    left out. Returns the receipt carrying new products' opening stock, if any."""
    receipt = None
    if preview.adds:
        _, receipt = await add_products(
            conn, [item for _, item in preview.adds], settings=settings, user=user, actor=actor
        )
    for _, sku, diff in preview.changes:
        patch = ProductPatch.model_validate(
            {column: new for column, (_, new) in diff.items()}, strict=False
        )
        await update_product(conn, sku, patch, store_id=settings.store_id, actor=actor)
    if preview.draft_id:
        await conn.execute(
            update(catalog_import_drafts)
            .where(catalog_import_drafts.c.id == preview.draft_id)
            .values(applied_at=text("CURRENT_TIMESTAMP(3)"))
        )
    return receipt
