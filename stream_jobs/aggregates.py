"""Sales by period and by product-month, from sale lines and returned lines: pure
Python on exact Decimals. The figures are net: a return takes its refund and units off
the period (day, month, year) in which the goods came back; it does not change the
number of sales or lines.

The stream job calls it on each micro-batch's new lines and adds the result to the
period tables in the same transaction; a rebuild can call it on all lines at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from stream_jobs.rows import ReturnedLine, SaleLine


@dataclass
class Measures:
    revenue: Decimal = Decimal(0)
    # The cost of the lines whose cost price was known when sold, and their revenue:
    # the margin is costed_revenue - cost, never revenue - cost (no cost is not free).
    cost: Decimal = Decimal(0)
    costed_revenue: Decimal = Decimal(0)
    units: int = 0
    lines_count: int = 0
    sale_ids: set[str] = field(default_factory=set)
    product: str | None = None  # the least name its lines gave (see `least_name`)

    def add(self, line: SaleLine) -> None:
        self.revenue += line.sales
        if line.cost is not None:
            self.cost += line.cost
            self.costed_revenue += line.sales
        self.units += line.quantity_sold
        self.lines_count += 1
        self.sale_ids.add(line.sale_id)
        self.product = least_name(self.product, line.product)

    def take_back(self, returned: ReturnedLine) -> None:
        self.revenue -= returned.refund
        if returned.cost is not None:
            self.cost -= returned.cost
            self.costed_revenue -= returned.refund
        self.units -= returned.quantity_returned
        self.product = least_name(self.product, returned.product)

    def row(self) -> dict[str, Any]:
        return {
            "revenue": self.revenue,
            "units": self.units,
            "sales_count": len(self.sale_ids),
            "lines_count": self.lines_count,
            "cost": self.cost,
            "costed_revenue": self.costed_revenue,
        }


@dataclass
class PeriodDeltas:
    daily: dict[tuple[str, str], Measures]
    monthly: dict[tuple[str, int, int], Measures]
    yearly: dict[tuple[str, int], Measures]
    product_monthly: dict[tuple[str, int, int, str], Measures]

    def rows(self) -> dict[str, list[dict[str, Any]]]:
        """Table name -> rows of keys and measures, in key order (a stable lock order)."""
        return {
            "sales_daily": _rows(self.daily, ("store_id", "sale_date")),
            "sales_monthly": _rows(self.monthly, ("store_id", "year", "month")),
            "sales_yearly": _rows(self.yearly, ("store_id", "year")),
            "product_monthly_sales": _rows(
                self.product_monthly, ("store_id", "year", "month", "sku"), with_product=True
            ),
        }


def least_name(known: str | None, name: str) -> str:
    """Lines may name a product differently (a renamed product, an import): a row keeps
    the least name (case-insensitively, as MySQL's LEAST compares under the tables'
    collation), so it does not depend on the order events are applied in."""
    if known is None:
        return name
    return min(known, name, key=lambda n: (n.casefold(), n))


def period_deltas(lines: Iterable[SaleLine], returned: Iterable[ReturnedLine] = ()) -> PeriodDeltas:
    """What sale lines, less returned lines, add to each period and product-month."""
    deltas = PeriodDeltas(
        defaultdict(Measures),
        defaultdict(Measures),
        defaultdict(Measures),
        defaultdict(Measures),
    )
    for line in lines:
        store, year, month = line.store_id, line.year, line.month
        deltas.daily[(store, str(line.sale_date))].add(line)
        deltas.monthly[(store, year, month)].add(line)
        deltas.yearly[(store, year)].add(line)
        deltas.product_monthly[(store, year, month, line.sku)].add(line)
    for back in returned:
        store, year, month = back.store_id, back.year, back.month
        deltas.daily[(store, str(back.return_date))].take_back(back)
        deltas.monthly[(store, year, month)].take_back(back)
        deltas.yearly[(store, year)].take_back(back)
        deltas.product_monthly[(store, year, month, back.sku)].take_back(back)
    return deltas


def _rows(
    groups: Mapping[tuple[Any, ...], Measures],
    key_names: tuple[str, ...],
    *,
    with_product: bool = False,
) -> list[dict[str, Any]]:
    rows = []
    for key in sorted(groups):
        row = {**dict(zip(key_names, key, strict=True)), **groups[key].row()}
        if with_product:
            row["product"] = groups[key].product
        rows.append(row)
    return rows
