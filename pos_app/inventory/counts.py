"""Stock counts: a count sheet for a category or the whole shop, the counted quantities
posted as one `count` adjustment through the pipeline (each line the difference from
on hand), and the variance in units and in kyat at cost."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.auth.service import audit
from pos_app.catalog.service import sold_at
from pos_app.contract import StockAdjusted
from pos_app.db.tables import products, stocks
from pos_app.events.movements import adjustment_event
from pos_app.events.outbox import enqueue
from pos_app.settings import Settings

MAX_COUNT = 100_000
NOTHING_COUNTED = "enter at least one counted quantity"
BAD_COUNT = "{sku}: a count is a whole number from 0"
NOT_ON_SHEET = "{sku} is not on this store's count sheet"


class CountRejected(ValueError):
    pass


@dataclass(frozen=True)
class SheetRow:
    sku: str
    name: str
    name_my: str | None
    category: str
    barcode: str | None
    on_hand: int
    cost_price: Decimal | None


@dataclass(frozen=True)
class Variance:
    sku: str
    name: str
    expected: int
    counted: int
    cost_price: Decimal | None

    @property
    def difference(self) -> int:
        return self.counted - self.expected

    @property
    def value(self) -> Decimal:
        """The difference at cost; a product without a cost price counts 0 Ks."""
        return (self.cost_price or Decimal(0)) * self.difference


@dataclass(frozen=True)
class CountResult:
    adjustment: StockAdjusted | None  # None: every count matched on hand
    lines: list[Variance]

    @property
    def differences(self) -> list[Variance]:
        return [line for line in self.lines if line.difference]

    @property
    def units(self) -> int:
        return sum(line.difference for line in self.lines)

    @property
    def value(self) -> Decimal:
        return sum((line.value for line in self.lines), Decimal(0))


async def count_sheet(
    conn: AsyncConnection, *, store_id: str, category: str = ""
) -> list[SheetRow]:
    """The store's products on sale (one category, or all), with on hand as the pipeline
    has it, by category and name."""
    query = (
        select(
            products.c.sku,
            products.c.name,
            products.c.name_my,
            products.c.category,
            products.c.barcode,
            products.c.cost_price,
            stocks.c.on_hand,
        )
        .select_from(
            products.outerjoin(
                stocks, and_(stocks.c.sku == products.c.sku, stocks.c.store_id == store_id)
            )
        )
        .where(sold_at(store_id), products.c.active.is_(True))
        .order_by(products.c.category, products.c.name, products.c.sku)
    )
    if category:
        query = query.where(products.c.category == category)
    return [
        SheetRow(
            sku=r.sku,
            name=r.name,
            name_my=r.name_my,
            category=r.category,
            barcode=r.barcode,
            on_hand=int(r.on_hand or 0),
            cost_price=r.cost_price,
        )
        for r in await conn.execute(query)
    ]


def parse_counts(form: dict[str, str], prefix: str = "count_") -> dict[str, int]:
    """{SKU: counted} of the filled-in lines; a blank line was not counted."""
    counted: dict[str, int] = {}
    for key, value in form.items():
        if not key.startswith(prefix) or not value.strip():
            continue
        sku = key[len(prefix) :]
        try:
            number = int(value.strip())
        except ValueError:
            raise CountRejected(BAD_COUNT.format(sku=sku)) from None
        if not 0 <= number <= MAX_COUNT:
            raise CountRejected(BAD_COUNT.format(sku=sku))
        counted[sku] = number
    if not counted:
        raise CountRejected(NOTHING_COUNTED)
    return counted


async def post_count(
    conn: AsyncConnection,
    counted: dict[str, int],
    *,
    settings: Settings,
    user: str,
    actor: str,
) -> CountResult:
    """One `count` adjustment of every difference between the counted quantities and on
    hand now (in the outbox, published when the caller's transaction commits)."""
    sheet = {row.sku: row for row in await count_sheet(conn, store_id=settings.store_id)}
    for sku in counted:
        if sku not in sheet:
            raise CountRejected(NOT_ON_SHEET.format(sku=sku))
    lines = [
        Variance(
            sku=sku,
            name=sheet[sku].name,
            expected=sheet[sku].on_hand,
            counted=number,
            cost_price=sheet[sku].cost_price,
        )
        for sku, number in sorted(counted.items())
    ]
    changes = [(line.sku, line.difference) for line in lines if line.difference]
    event = None
    if changes:
        event = adjustment_event(
            settings=settings,
            user=user,
            reason="count",
            note=f"stock count of {len(lines)} products",
            lines=changes,
        )
        event = await enqueue(conn, event, topic=settings.inventory_topic)
    result = CountResult(adjustment=event, lines=lines)
    await audit(
        conn,
        actor=actor,
        action="stock.counted",
        target=f"adjustment:{event.adjustment_id}" if event else None,
        details={
            "counted": len(lines),
            "differences": [[v.sku, v.expected, v.counted] for v in result.differences],
            "units": result.units,
            "value_at_cost": result.value,
        },
    )
    return result
