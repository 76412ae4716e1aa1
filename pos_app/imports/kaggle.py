"""Import the Kaggle "Sales Product Data" (2019) the shop's first study used.

Cleaning follows the seed study: empty rows, repeated header rows and exact duplicate
rows are dropped; distinct lines of one order are kept (an order may list a product
twice). Rows that cannot be read (bad quantity, bad price, a date that does not parse)
are reported with file and line number and skipped. Lines are grouped into one sale
per order id and published as `sale.completed` events with their original times.

The data's times are local shop times without a zone: they are read in `timezone`
(America/New_York by default; the stores are in US cities) and written with that
offset, so the date, month and year of every line are exactly those of the file.
Event ids are derived from store and order id, so importing the same files twice
changes nothing.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo

from pos_app.contract import EventLine, EventPayment, EventTotals, SaleCompleted
from pos_app.csvfile import UnreadableFile, clean_header, read_csv
from pos_app.i18n.zawgyi import to_unicode

HEADER = ["Order ID", "Product", "Quantity Ordered", "Price Each", "Order Date", "Purchase Address"]
DATE_FORMAT = "%m/%d/%y %H:%M"
EVENT_NAMESPACE = uuid.UUID("5b0f4a52-6f7e-4c1e-9a38-0c0ffee2019a")


@dataclass(frozen=True)
class KaggleLine:
    order_id: str
    product: str
    quantity: int
    price: Decimal
    ordered_at: datetime  # naive local time, as in the file
    file: str
    line: int


@dataclass
class FileSummary:
    """What one file gave: rows read, rows kept and rows dropped by reason."""

    name: str
    encoding: str
    rows_read: int = 0
    kept: int = 0
    dropped: Counter[str] = field(default_factory=Counter)


@dataclass
class ImportReport:
    read: list[FileSummary] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # "file: why", for files not imported
    problems: list[str] = field(default_factory=list)  # "file line N: why", rows dropped
    lines: list[KaggleLine] = field(default_factory=list)

    @property
    def files(self) -> int:
        return len(self.read)

    @property
    def rows_read(self) -> int:
        return sum(summary.rows_read for summary in self.read)

    @property
    def dropped(self) -> Counter[str]:
        return sum((summary.dropped for summary in self.read), Counter())

    @property
    def sales(self) -> int:
        return len({line.order_id for line in self.lines})


def sku_for(product: str) -> str:
    """'AAA Batteries (4-pack)' -> 'AAA-BATTERIES-4-PACK'."""
    return re.sub(r"[^A-Z0-9]+", "-", product.upper()).strip("-")[:40]


def sales_files(folder: Path) -> list[Path]:
    """The monthly sales files of a folder, in name order (the stock file is not one)."""
    if not folder.is_dir():
        raise UnreadableFile(f"{folder}: not a folder")
    found = sorted(
        path
        for path in folder.iterdir()
        if path.suffix.lower() == ".csv" and not path.name.lower().startswith("stock")
    )
    if not found:
        raise UnreadableFile(f"{folder}: no .csv sales files in it")
    return found


def read_dir(folder: Path) -> ImportReport:
    """Read and clean every sales CSV of folder. A file that cannot be read at all (not
    text, or a header that is not the Kaggle one) is listed in `failed` and adds nothing."""
    report = ImportReport()
    seen: set[tuple[str, ...]] = set()
    for path in sales_files(folder):
        try:
            content = read_csv(path)
            rows = content.rows()
            first = next(rows, None)
            if first is None or clean_header(first[1]) != HEADER:
                found = "an empty file" if first is None else first[1]
                raise UnreadableFile(f"{path.name} line 1: not the Kaggle header, found {found}")
            summary = FileSummary(path.name, content.encoding)
            kept_before = len(report.lines)
            for line, row in rows:
                summary.rows_read += 1
                _take(report, summary, seen, tuple(row), line)
        except UnreadableFile as error:
            report.failed.append(str(error))
            continue
        summary.kept = len(report.lines) - kept_before
        report.read.append(summary)
    return report


def _take(
    report: ImportReport,
    summary: FileSummary,
    seen: set[tuple[str, ...]],
    row: tuple[str, ...],
    line: int,
) -> None:
    file = summary.name
    if not any(cell.strip() for cell in row):
        summary.dropped["empty row"] += 1
        return
    if list(row) == HEADER:
        summary.dropped["repeated header"] += 1
        return
    if row in seen:
        summary.dropped["exact duplicate"] += 1
        return
    seen.add(row)
    problem = None
    if len(row) != len(HEADER):
        problem = f"expected {len(HEADER)} fields, found {len(row)}"
    else:
        order_id, product, quantity, price, ordered, _address = row
        parsed = _parse(order_id, product, quantity, price, ordered)
        if isinstance(parsed, str):
            problem = parsed
        else:
            report.lines.append(
                # A product name in the legacy Zawgyi encoding is kept as Unicode.
                KaggleLine(
                    order_id, to_unicode(product), parsed[0], parsed[1], parsed[2], file, line
                )
            )
            return
    reason = problem.split(":")[0]
    summary.dropped[reason] += 1
    report.problems.append(f"{file} line {line}: {problem}")


def _parse(
    order_id: str, product: str, quantity: str, price: str, ordered: str
) -> tuple[int, Decimal, datetime] | str:
    if not order_id.strip() or not product.strip():
        return "missing order id or product"
    try:
        qty = int(quantity)
    except ValueError:
        return f"bad quantity: {quantity!r}"
    if qty <= 0:
        return f"bad quantity: {quantity!r}"
    try:
        unit_price = Decimal(price)
    except InvalidOperation:
        return f"bad price: {price!r}"
    if not unit_price.is_finite() or unit_price < 0:
        return f"bad price: {price!r}"
    try:
        when = datetime.strptime(ordered, DATE_FORMAT)
    except ValueError:
        return f"bad date: {ordered!r}"
    return qty, unit_price, when


def products(lines: Iterable[KaggleLine]) -> dict[str, tuple[str, Decimal]]:
    """SKU -> (name, the first price seen) for the catalog."""
    found: dict[str, tuple[str, Decimal]] = {}
    for line in lines:
        found.setdefault(sku_for(line.product), (line.product, line.price))
    return found


def sale_events(
    lines: Iterable[KaggleLine], *, store_id: str, timezone: str = "America/New_York"
) -> list[SaleCompleted]:
    """One sale.completed per order id, in the order the orders first appear."""
    zone = ZoneInfo(timezone)
    orders: dict[str, list[KaggleLine]] = {}
    for line in lines:
        orders.setdefault(line.order_id, []).append(line)
    events = []
    for order_id, order_lines in orders.items():
        event_lines = [
            EventLine(
                line_no=number,
                sku=sku_for(line.product),
                name=line.product,
                quantity=line.quantity,
                unit_price=line.price,
                line_total=line.price * line.quantity,
            )
            for number, line in enumerate(order_lines, start=1)
        ]
        totals = EventTotals.of(event_lines)
        events.append(
            SaleCompleted(
                event_id=str(uuid.uuid5(EVENT_NAMESPACE, f"kaggle/{store_id}/{order_id}")),
                sale_id=f"{store_id}:{order_id}"[:40],
                store_id=store_id,
                register_id="kaggle-import",
                cashier="import",
                occurred_at=order_lines[0].ordered_at.replace(tzinfo=zone),
                currency="USD",
                lines=event_lines,
                totals=totals,
                payment=EventPayment(method="card", amount=totals.total),
            )
        )
    return events


def read_stock_file(path: Path) -> dict[str, int]:
    """The seed's Stock_Quantity.csv: Product,Stock_Quantity -> SKU -> units."""
    stock: dict[str, int] = {}
    rows = read_csv(path).rows()
    first = next(rows, None)
    if first is None or clean_header(first[1]) != ["Product", "Stock_Quantity"]:
        raise UnreadableFile(f"{path.name} line 1: expected the header Product,Stock_Quantity")
    for line, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        try:
            product, quantity = row
            stock[sku_for(product)] = int(quantity)
        except ValueError:
            raise UnreadableFile(f"{path.name} line {line}: bad stock row {row}") from None
    return stock
