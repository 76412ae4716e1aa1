"""Sales history for the demo shop: two full years and this year to date, published
through the real pipeline (Kafka -> stream job -> MySQL and MongoDB) like an import.

A Yangon men's clothing shop's year: Thingyan (the water festival, mid April) is the
biggest peak, Thadingyut (the festival of lights, October's full moon) the second; the
wedding season (November to February) sells more jackets, headdresses and silk; the
monsoon (June to August) is quiet; weekends are busier, and the shop grows ~8% a year.

Deterministic: each day has its own seeded random generator and each event a uuid5 id
derived from its sale or receipt id, so running again publishes the same events and the
stream job ignores them as duplicates (a later day only adds the days since). Goods
received (`stock.received`) at the start of each month restock what the month sells,
so on hand stays realistic instead of going negative.
"""

from __future__ import annotations

import json
import math
import random
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from pos_app.catalog.seed import CatalogRow
from pos_app.contract import (
    SCHEMA_VERSION,
    STOCK_RECEIVED,
    EventLine,
    EventPayment,
    EventTotals,
    SaleCompleted,
)

NAMESPACE = uuid.UUID("9d3f6c1e-2b7a-4e55-8c61-d3e0a1f00d42")
BASE_SALES_PER_DAY = 9.0
GROWTH_PER_YEAR = 0.08
PACK = 6  # the suppliers deliver in packs of six
# Thadingyut full moon (approximate; the lunar calendar moves it each year).
THADINGYUT_FULL_MOON = {
    2022: date(2022, 10, 9),
    2023: date(2023, 10, 28),
    2024: date(2024, 10, 17),
    2025: date(2025, 10, 6),
    2026: date(2026, 10, 25),
    2027: date(2027, 10, 15),
}
WEDDING_CATEGORIES = {"Taikpon", "Gaung Baung"}
PAYMENTS = ("cash", "cash", "cash", "kbzpay", "kbzpay", "wavepay", "ayapay", "card")


def day_factor(day: date) -> float:
    """How busy a day is against an ordinary weekday of the same year (1.0)."""
    factor = 1.0
    if date(day.year, 4, 10) <= day <= date(day.year, 4, 16):
        factor *= 3.0  # Thingyan: new clothes for the new year
    elif day.month == 4 and day.day < 10:
        factor *= 1.6  # the run-up
    elif day.month == 4:
        factor *= 0.7  # after the holidays
    moon = THADINGYUT_FULL_MOON.get(day.year, date(day.year, 10, 15))
    if abs((day - moon).days) <= 3:
        factor *= 2.2
    elif day.month == 10:
        factor *= 1.3
    if day.month in (11, 12, 1, 2):
        factor *= 1.3  # wedding season
    if day.month in (6, 7, 8):
        factor *= 0.75  # monsoon
    factor *= {4: 1.15, 5: 1.5, 6: 1.4}.get(day.weekday(), 1.0)  # Fri, Sat, Sun
    return factor


def product_weight(row: CatalogRow, day: date) -> float:
    """Cheaper things sell more often; wedding wear sells in the wedding season."""
    weight: float = 100_000 / float(row.unit_price) ** 0.8
    if row.category in WEDDING_CATEGORIES or row.sku.startswith(("LGY-SLK", "LGY-ACH")):
        weight *= 2.0 if day.month in (11, 12, 1, 2) else 0.8
    if row.category == "Longyi" and day.month == 4:
        weight *= 1.5  # Thingyan longyi
    return weight


@dataclass(frozen=True)
class History:
    sales: list[SaleCompleted]
    receipts: list[dict[str, object]]  # stock.received events

    @property
    def lines(self) -> int:
        return sum(len(s.lines) for s in self.sales)


def days(start: date, end: date) -> Iterator[date]:
    for n in range((end - start).days + 1):
        yield start + timedelta(days=n)


def day_sales(
    catalog: Sequence[CatalogRow],
    day: date,
    *,
    store_id: str,
    zone: ZoneInfo,
    first_year: int,
    per_day: float = BASE_SALES_PER_DAY,
) -> list[SaleCompleted]:
    rng = random.Random(f"demo-history/{store_id}/{day.isoformat()}")
    growth = (1 + GROWTH_PER_YEAR) ** (day.year - first_year)
    expected = per_day * day_factor(day) * growth
    count = max(0, round(rng.gauss(expected, math.sqrt(expected))))
    weights = [product_weight(row, day) for row in catalog]
    opening = 9 * 60  # 09:00 to 20:00, in minutes
    times = sorted(rng.randrange(opening, 20 * 60) for _ in range(count))
    sales = []
    for number, minute in enumerate(times, start=1):
        picked = rng.choices(catalog, weights=weights, k=rng.choices((1, 2, 3), (6, 3, 1))[0])
        lines: list[EventLine] = []
        seen: set[str] = set()
        for row in picked:
            if row.sku in seen:
                continue
            seen.add(row.sku)
            quantity = rng.choices((1, 2, 3), (85, 12, 3))[0]
            lines.append(
                EventLine(
                    line_no=len(lines) + 1,
                    sku=row.sku,
                    name=row.name,
                    quantity=quantity,
                    unit_price=row.unit_price,
                    line_total=row.unit_price * quantity,
                )
            )
        totals = EventTotals.of(lines)
        sale_id = f"H{day:%Y%m%d}-{number:03d}"
        at = datetime.combine(day, time(minute // 60, minute % 60, rng.randrange(60)), zone)
        sales.append(
            SaleCompleted(
                event_id=str(uuid.uuid5(NAMESPACE, f"{store_id}/sale/{sale_id}")),
                sale_id=sale_id,
                store_id=store_id,
                register_id="counter-1",
                cashier=rng.choice(("Ko Aung", "Ma Hnin", "Ko Zaw")),
                occurred_at=at,
                currency="MMK",
                lines=lines,
                totals=totals,
                payment=EventPayment(method=rng.choice(PAYMENTS), amount=totals.total),
            )
        )
    return sales


def build(
    catalog: Sequence[CatalogRow],
    *,
    store_id: str,
    today: datetime,
    years: int = 2,
    per_day: float = BASE_SALES_PER_DAY,
) -> History:
    """Sales from 1 January `years` years ago up to now (today: shop-local, aware), and
    a goods receipt at 08:00 on the first of each month for what the month will sell."""
    zone = today.tzinfo if isinstance(today.tzinfo, ZoneInfo) else ZoneInfo("Asia/Yangon")
    catalog = sorted(catalog, key=lambda row: row.sku)
    first_year = today.year - years
    sales = [
        sale
        for day in days(date(first_year, 1, 1), today.date())
        for sale in day_sales(
            catalog, day, store_id=store_id, zone=zone, first_year=first_year, per_day=per_day
        )
        if sale.occurred_at <= today
    ]
    # Restock: at the start of each month, bring each SKU up to what the month sells
    # plus its reorder point, in whole packs.
    sold: dict[tuple[int, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for sale in sales:
        for line in sale.lines:
            sold[(sale.occurred_at.year, sale.occurred_at.month)][line.sku] += line.quantity
    on_hand = {row.sku: row.opening_stock for row in catalog}
    receipts = []
    for year, month in sorted(sold):
        needed = sold[(year, month)]
        lines: list[dict[str, object]] = []
        for row in catalog:
            short = needed.get(row.sku, 0) + row.reorder_point - on_hand[row.sku]
            if short > 0:
                quantity = math.ceil(short / PACK) * PACK
                lines.append({"line_no": len(lines) + 1, "sku": row.sku, "quantity": quantity})
                on_hand[row.sku] += quantity
            on_hand[row.sku] -= needed.get(row.sku, 0)
        if lines:
            receipt_id = f"GR-{year}{month:02d}-{store_id}"
            at = datetime(year, month, 1, 8, 0, tzinfo=zone)
            receipts.append(
                {
                    "event_type": STOCK_RECEIVED,
                    "schema_version": SCHEMA_VERSION,
                    "event_id": str(uuid.uuid5(NAMESPACE, f"{store_id}/receipt/{receipt_id}")),
                    "receipt_id": receipt_id,
                    "store_id": store_id,
                    "recorded_by": "demo",
                    "occurred_at": at.isoformat(),
                    "supplier": "Yangon Wholesale Textiles",
                    "lines": lines,
                }
            )
    return History(sales=sales, receipts=receipts)


def records(
    history: History, *, sales_topic: str, inventory_topic: str
) -> list[tuple[str, bytes, bytes]]:
    """(topic, key, value) in time order: each month's receipt before its sales."""
    timed: list[tuple[datetime, int, tuple[str, bytes, bytes]]] = [
        (
            datetime.fromisoformat(str(r["occurred_at"])),
            0,
            (inventory_topic, str(r["store_id"]).encode(), json.dumps(r).encode()),
        )
        for r in history.receipts
    ]
    timed += [(s.occurred_at, 1, (sales_topic, *s.to_kafka())) for s in history.sales]
    timed.sort(key=lambda item: (item[0], item[1]))
    return [record for _, _, record in timed]


def expected_units(history: History) -> dict[str, int]:
    """Units sold per SKU over the whole history (for checks and the CLI's summary)."""
    units: dict[str, int] = defaultdict(int)
    for sale in history.sales:
        for line in sale.lines:
            units[line.sku] += line.quantity
    return dict(units)


def revenue(history: History) -> Decimal:
    return sum((s.totals.total for s in history.sales), Decimal(0))
