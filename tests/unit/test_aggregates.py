from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from stream_jobs.aggregates import period_deltas
from stream_jobs.rows import ReturnedLine, SaleLine


def line(sale: str, sku: str, qty: int, price: str, date: str, store: str = "s1") -> SaleLine:
    year, month, day = (int(part) for part in date.split("-"))
    return SaleLine(
        line_id=f"{sale}:{sku}",
        sale_id=sale,
        event_id=f"e-{sale}",
        line_no=1,
        store_id=store,
        register_id="r1",
        cashier="",
        sku=sku,
        product=f"Product {sku}",
        quantity_sold=qty,
        price_each=Decimal(price),
        sales=Decimal(price) * qty,
        sale_date=date,
        sale_time="10:00:00",
        day=day,
        month=month,
        year=year,
        occurred_at=f"{date} 03:30:00.000",
    )


LINES = [
    line("a", "X", 2, "11.95", "2019-12-31"),
    line("a", "Y", 1, "0.10", "2019-12-31"),
    line("b", "X", 1, "11.95", "2019-12-01"),
    line("c", "X", 3, "11.95", "2020-01-01"),
    line("d", "X", 1, "11.95", "2020-01-01", store="s2"),
]


def test_periods_sum_exactly_and_count_sales_once() -> None:
    rows = period_deltas(LINES).rows()
    assert rows["sales_monthly"][0] == {
        "store_id": "s1",
        "year": 2019,
        "month": 12,
        "revenue": Decimal("35.95"),
        "units": 4,
        "sales_count": 2,
        "lines_count": 3,
        "cost": Decimal(0),  # no line knew its cost
        "costed_revenue": Decimal(0),
    }
    yearly = {(r["store_id"], r["year"]): r for r in rows["sales_yearly"]}
    assert yearly[("s1", 2020)]["revenue"] == Decimal("35.85")
    assert yearly[("s2", 2020)]["sales_count"] == 1
    daily = {(r["store_id"], r["sale_date"]): r["sales_count"] for r in rows["sales_daily"]}
    assert daily[("s1", "2019-12-31")] == 1  # one sale with two lines


def test_product_months_name_the_product() -> None:
    rows = period_deltas(LINES).rows()["product_monthly_sales"]
    december_x = next(r for r in rows if (r["store_id"], r["month"], r["sku"]) == ("s1", 12, "X"))
    assert december_x["units"] == 3
    assert december_x["sales_count"] == 2
    assert december_x["product"] == "Product X"


def test_rows_come_in_key_order() -> None:
    keys = [
        (r["store_id"], r["year"], r["month"]) for r in period_deltas(LINES).rows()["sales_monthly"]
    ]
    assert keys == sorted(keys)


def test_a_return_nets_revenue_and_units_in_the_period_it_came_back() -> None:
    back = ReturnedLine(
        line_id="r:1",
        return_id="r",
        sale_id="c",
        event_id="e-r",
        line_no=1,
        store_id="s1",
        register_id="r1",
        cashier="",
        sku="X",
        product="Product X",
        quantity_returned=1,
        price_each=Decimal("11.95"),
        refund=Decimal("11.95"),
        reason="wrong size",
        return_date="2020-01-02",
        occurred_at="2020-01-02 03:30:00.000",
        year=2020,
        month=1,
    )
    rows = period_deltas(LINES, [back]).rows()
    january = [r for r in rows["sales_monthly"] if (r["store_id"], r["month"]) == ("s1", 1)]
    assert january == [
        {
            "store_id": "s1",
            "year": 2020,
            "month": 1,
            "revenue": Decimal("23.90"),  # 3 x 11.95 sold, 1 x 11.95 back
            "units": 2,
            "sales_count": 1,  # a return is not a sale
            "lines_count": 1,
            "cost": Decimal(0),
            "costed_revenue": Decimal(0),
        }
    ]
    day = [r for r in rows["sales_daily"] if r["sale_date"] == "2020-01-02"]
    assert day == [
        {
            "store_id": "s1",
            "sale_date": "2020-01-02",
            "revenue": Decimal("-11.95"),
            "units": -1,
            "sales_count": 0,
            "lines_count": 0,
            "cost": Decimal(0),
            "costed_revenue": Decimal(0),
        }
    ]


def test_a_product_row_keeps_its_own_least_name_whatever_the_batches() -> None:
    renamed = replace(line("e", "X", 1, "11.95", "2020-01-05"), product="Alpha X")
    other_store = replace(line("f", "X", 1, "11.95", "2020-01-05", store="s2"), product="Aa X")

    def names(*batches: list[SaleLine]) -> dict[tuple[str, int], str]:
        found: dict[tuple[str, int], str] = {}
        for batch in batches:
            for row in period_deltas(batch).rows()["product_monthly_sales"]:
                key = (row["store_id"], row["month"])
                found[key] = min(found.get(key, row["product"]), row["product"])
        return found

    together = names([*LINES, renamed, other_store])
    apart = names([renamed], [other_store], LINES)
    assert together == apart
    assert together[("s1", 1)] == "Alpha X"  # "Alpha X" < "Product X"
    assert together[("s2", 1)] == "Aa X"  # another store's name stays its own


def test_cost_counts_only_lines_sold_with_a_cost_and_a_return_takes_its_cost_back() -> None:
    costed = replace(line("k", "X", 3, "45000", "2026-12-01"), unit_cost=Decimal("30000.50"))
    uncosted = line("m", "Y", 2, "12000", "2026-12-01")
    back = ReturnedLine(
        line_id="rk:1",
        return_id="rk",
        sale_id="k",
        event_id="e-rk",
        line_no=1,
        store_id="s1",
        register_id="r1",
        cashier="",
        sku="X",
        product="Product X",
        quantity_returned=1,
        price_each=Decimal("45000"),
        refund=Decimal("45000"),
        reason="wrong size",
        return_date="2026-12-02",
        occurred_at="2026-12-02 03:30:00.000",
        year=2026,
        month=12,
        unit_cost=Decimal("30000.50"),  # the sold line's cost, not today's
    )
    rows = period_deltas([costed, uncosted], [back]).rows()
    [month] = rows["sales_monthly"]
    assert month["revenue"] == Decimal(2 * 45000 + 2 * 12000)
    assert month["cost"] == Decimal("60001.00")  # 2 x 30,000.50 kept
    assert month["costed_revenue"] == Decimal(90000)  # Y had no cost: not in the margin
    products = {r["sku"]: r for r in rows["product_monthly_sales"]}
    assert (products["Y"]["cost"], products["Y"]["costed_revenue"]) == (0, 0)
    assert back.as_row().keys().isdisjoint({"unit_cost", "year", "month"})
