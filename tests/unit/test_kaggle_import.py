"""Reading the Kaggle files: the seed's cleaning, bad rows with their line numbers,
one sale per order, deterministic event ids."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from pos_app.imports import kaggle

HEADER = "Order ID,Product,Quantity Ordered,Price Each,Order Date,Purchase Address\n"
JANUARY = (
    HEADER
    + '141234,iPhone,1,700,01/22/19 21:25,"944 Walnut St, Boston, MA 02215"\n'  # line 2
    + ",,,,,\n"  # line 3: empty
    + '141235,USB-C Charging Cable,2,11.95,01/31/19 23:59,"1 Main St, Dallas, TX 75001"\n'
    + '141235,USB-C Charging Cable,1,11.95,01/31/19 23:59,"1 Main St, Dallas, TX 75001"\n'
    + '141235,AAA Batteries (4-pack),3,2.99,01/31/19 23:59,"1 Main St, Dallas, TX 75001"\n'
    + HEADER  # line 7: a repeated header
    + '141234,iPhone,1,700,01/22/19 21:25,"944 Walnut St, Boston, MA 02215"\n'  # duplicate
    + '141236,iPhone,two,700,01/02/19 10:00,"x"\n'  # line 9: bad quantity
    + '141237,iPhone,1,seven,01/02/19 10:00,"x"\n'  # line 10: bad price
    + '141238,iPhone,1,700,13/45/19 25:00,"x"\n'  # line 11: bad date
)
DECEMBER = HEADER + '319670,Bose SoundSport Headphones,1,99.99,01/01/20 00:30,"x"\n'


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "Sales_January_2019.csv").write_text(JANUARY)
    (tmp_path / "Sales_December_2019.csv").write_text(DECEMBER)
    (tmp_path / "Stock_Quantity.csv").write_text("Product,Stock_Quantity\niPhone,31000\n")
    return tmp_path


def test_cleaning_follows_the_seed_and_names_bad_rows(folder: Path) -> None:
    report = kaggle.read_dir(folder)
    assert report.files == 2
    assert report.rows_read == 11
    assert report.dropped == {
        "empty row": 1,
        "repeated header": 1,
        "exact duplicate": 1,
        "bad quantity": 1,
        "bad price": 1,
        "bad date": 1,
    }
    assert report.problems == [
        "Sales_January_2019.csv line 9: bad quantity: 'two'",
        "Sales_January_2019.csv line 10: bad price: 'seven'",
        "Sales_January_2019.csv line 11: bad date: '13/45/19 25:00'",
    ]
    # Distinct lines of one order stay, even the same product twice.
    assert len(report.lines) == 5
    assert report.sales == 3


def test_one_sale_per_order_with_exact_money_and_local_times(folder: Path) -> None:
    report = kaggle.read_dir(folder)
    events = {e.sale_id: e for e in kaggle.sale_events(report.lines, store_id="k")}
    order = events["k:141235"]
    assert [(line.sku, line.quantity) for line in order.lines] == [
        ("USB-C-CHARGING-CABLE", 2),
        ("USB-C-CHARGING-CABLE", 1),
        ("AAA-BATTERIES-4-PACK", 3),
    ]
    assert order.totals.total == Decimal("44.82")  # 3 * 11.95 + 3 * 2.99, exactly
    assert order.currency == "USD"
    # The file's local time, with the zone's offset: the day stays 31 January.
    assert order.occurred_at.isoformat() == "2019-01-31T23:59:00-05:00"
    assert events["k:319670"].occurred_at.year == 2020


def test_importing_twice_makes_the_same_events(folder: Path) -> None:
    first = kaggle.sale_events(kaggle.read_dir(folder).lines, store_id="k")
    again = kaggle.sale_events(kaggle.read_dir(folder).lines, store_id="k")
    assert [e.event_id for e in first] == [e.event_id for e in again]
    other_store = kaggle.sale_events(kaggle.read_dir(folder).lines, store_id="k2")
    assert not {e.event_id for e in first} & {e.event_id for e in other_store}


def test_stock_file_and_skus(folder: Path) -> None:
    assert kaggle.read_stock_file(folder / "Stock_Quantity.csv") == {"IPHONE": 31000}
    assert kaggle.sku_for("27in 4K Gaming Monitor") == "27IN-4K-GAMING-MONITOR"
