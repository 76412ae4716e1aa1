"""Barcode labels: which labels to print (products and quantities, or one per unit of a
goods receipt) and each barcode drawn as SVG on the server, so any browser prints it
and a scanner reads it back into the counter's search."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from barcode import EAN13, Code128
from barcode.writer import SVGWriter
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.catalog.barcodes import barcode_problem
from pos_app.db.tables import products, stock_movements

MAX_LABELS = 1000  # a print run; more is a typo in a quantity
FORMATS = ("a4", "roll")

# Bars 0.33 mm wide (EAN-13's nominal module), tall enough for a hand scanner; the digits
# are printed under the bars by the page, in the shop's font.
_WRITER_OPTIONS = {"module_width": 0.33, "module_height": 10.0, "quiet_zone": 3.0}
_STYLE = re.compile(r'style="fill:(\w+);?"')


def barcode_svg(code: str) -> str:
    """An <svg> of the code: EAN-13 for 13 digits with a right check digit, else Code 128.
    Fills are attributes, not style="", which the pages' Content-Security-Policy blocks."""
    if len(code) == 13 and barcode_problem(code) is None:
        drawn = EAN13(code[:12], writer=SVGWriter())
    else:
        drawn = Code128(code, writer=SVGWriter())
    svg = drawn.render({**_WRITER_OPTIONS, "write_text": False}).decode()
    svg = svg[svg.index("<svg") :]  # no XML declaration or doctype inside HTML
    svg = svg.replace(
        "<svg ", f'<svg role="img" aria-label="barcode {code}" data-code="{code}" ', 1
    )
    return _STYLE.sub(r'fill="\1"', svg)


@dataclass(frozen=True)
class Label:
    sku: str
    name: str
    name_my: str | None
    size: str | None
    colour: str | None
    price: Decimal
    barcode: str
    svg: str


class LabelsRejected(ValueError):
    pass


TOO_MANY = "at most 1000 labels at a time"
NO_BARCODE = "{sku} has no barcode: give it one on its product page"
NOTHING = "choose at least one product and how many labels"


async def labels_for(conn: AsyncConnection, quantities: dict[str, int]) -> list[Label]:
    """The labels to print, in the order asked, each product's as many times as asked."""
    wanted = {sku: n for sku, n in quantities.items() if n > 0}
    if not wanted:
        raise LabelsRejected(NOTHING)
    if sum(wanted.values()) > MAX_LABELS:
        raise LabelsRejected(TOO_MANY)
    rows = {
        r.sku: r
        for r in await conn.execute(select(products).where(products.c.sku.in_(list(wanted))))
    }
    labels: list[Label] = []
    for sku, count in wanted.items():
        row = rows.get(sku)
        if row is None:
            continue  # a SKU typed into the address: nothing to print for it
        if not row.barcode:
            raise LabelsRejected(NO_BARCODE.format(sku=sku))
        label = Label(
            sku=row.sku,
            name=row.name,
            name_my=row.name_my,
            size=row.size,
            colour=row.colour,
            price=row.unit_price,
            barcode=row.barcode,
            svg=barcode_svg(row.barcode),
        )
        labels.extend([label] * count)
    return labels


async def received_quantities(
    conn: AsyncConnection, receipt_id: str, *, store_id: str
) -> dict[str, int]:
    """One label per unit of a goods receipt the pipeline has applied."""
    rows = await conn.execute(
        select(stock_movements.c.sku, stock_movements.c.quantity)
        .where(
            stock_movements.c.document_id == receipt_id,
            stock_movements.c.store_id == store_id,
            stock_movements.c.kind == "received",
        )
        .order_by(stock_movements.c.line_id)
    )
    quantities: dict[str, int] = {}
    for sku, quantity in rows:
        quantities[sku] = quantities.get(sku, 0) + int(quantity)
    return quantities


async def recent_receipts(conn: AsyncConnection, *, store_id: str, limit: int = 15) -> list[str]:
    rows = await conn.execute(
        select(stock_movements.c.document_id)
        .where(stock_movements.c.store_id == store_id, stock_movements.c.kind == "received")
        .group_by(stock_movements.c.document_id)
        .order_by(func.max(stock_movements.c.occurred_at).desc())
        .limit(limit)
    )
    return [r[0] for r in rows]
