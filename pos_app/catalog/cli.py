"""`posctl catalog import FILE` and `posctl catalog export FILE`: the back office's
import and export from the command line (.csv or .xlsx by the file's name)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pos_app.catalog.products import ProductRejected
from pos_app.catalog.spreadsheet import (
    Preview,
    apply_import,
    export_rows,
    preview_import,
    read_table,
    to_csv,
    to_xlsx,
)
from pos_app.csvfile import UnreadableFile
from pos_app.db.engine import make_async_engine
from pos_app.settings import Settings

ACTOR = "cli:posctl"


def describe(preview: Preview) -> list[str]:
    lines = [
        f"{preview.filename}: {len(preview.adds)} to add, {len(preview.changes)} to change, "
        f"{preview.unchanged} unchanged, {len(preview.bad)} bad"
    ]
    lines += [f"  line {line}: bad: {reason}" for line, reason in preview.bad]
    lines += [
        f"  line {line}: add {item.sku} {item.name} {item.unit_price} Ks"
        for line, item in preview.adds
    ]
    for line, sku, diff in preview.changes:
        for column, (old, new) in diff.items():
            lines.append(f"  line {line}: change {sku} {column}: {old} -> {new}")
    return lines


def export_catalog(settings: Settings, path: Path) -> int:
    async def run() -> int:
        engine = make_async_engine(settings)
        try:
            async with engine.connect() as conn:
                rows = await export_rows(conn, store_id=settings.store_id)
        finally:
            await engine.dispose()
        data = to_xlsx(rows) if path.suffix.lower() == ".xlsx" else to_csv(rows)
        path.write_bytes(data)
        print(f"{path}: {len(rows)} products")
        return 0

    return asyncio.run(run())


def import_catalog(settings: Settings, path: Path, *, apply: bool) -> int:
    """Print the preview; with apply, add and change the good rows (bad ones are left
    out and named). Exit 1 if the file cannot be read or has bad rows."""
    try:
        rows = read_table(path.name, path.read_bytes())
    except (UnreadableFile, OSError) as error:
        print(f"error: {error}")
        return 1

    async def run() -> int:
        engine = make_async_engine(settings)
        try:
            async with engine.begin() as conn:
                preview = await preview_import(conn, path.name, rows, store_id=settings.store_id)
                print("\n".join(describe(preview)))
                if not apply:
                    print("nothing changed; run again with --yes to apply the good rows")
                elif preview.good_rows:
                    receipt = await apply_import(
                        conn, preview, settings=settings, user="posctl", actor=ACTOR
                    )
                    print(f"applied {preview.good_rows} rows")
                    if receipt is not None:
                        print(f"opening stock travels as receipt {receipt.receipt_id}")
        except ProductRejected as error:
            print(f"error: {error}; nothing changed")
            return 1
        finally:
            await engine.dispose()
        return 1 if preview.bad else 0

    return asyncio.run(run())
