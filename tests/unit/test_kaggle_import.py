"""Reading the Kaggle files: the seed's cleaning, bad rows with their line numbers,
one sale per order, deterministic event ids."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from pos_app.catalog.seed import CatalogError, parse_catalog
from pos_app.csvfile import UnreadableFile
from pos_app.imports import kaggle
from pos_app.settings import REPO_ROOT

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


# --- files as spreadsheet programs save them ---------------------------------------------

KAGGLE = REPO_ROOT.parent / "shared" / "datasets" / "kaggle-sales-2019"
DECEMBER_2019_SALES = Decimal("4608295.70")  # the data set README's best month


def december_2019(report: kaggle.ImportReport) -> Decimal:
    return sum(
        (
            line.price * line.quantity
            for line in report.lines
            if (line.ordered_at.year, line.ordered_at.month) == (2019, 12)
        ),
        Decimal(0),
    )


def test_a_month_reads_the_same_plain_with_a_bom_and_crlf_and_resaved(tmp_path: Path) -> None:
    import pandas

    # December 2019's sales: its file, and the first hours of 1 December in November's.
    sources = [KAGGLE / f"Sales_{month}_2019.csv" for month in ("November", "December")]
    for source in sources:
        if not source.is_file():
            pytest.fail(f"the Kaggle data set is missing: {source}")
    plain, bom_crlf, resaved = (tmp_path / name for name in ("plain", "bom-crlf", "resaved"))
    for folder in (plain, bom_crlf, resaved):
        folder.mkdir()
    for source in sources:
        data = source.read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf") and b"\r\n" not in data  # the raw file
        (plain / source.name).write_bytes(data)
        (bom_crlf / source.name).write_bytes(b"\xef\xbb\xbf" + data.replace(b"\n", b"\r\n"))
        # As a spreadsheet library re-saves it for Excel: "CSV UTF-8", with a byte-order mark.
        frame = pandas.read_csv(source, dtype=str, keep_default_na=False)
        frame.to_csv(resaved / source.name, index=False, encoding="utf-8-sig")
        assert (resaved / source.name).read_bytes().startswith(b"\xef\xbb\xbf")

    reports = [kaggle.read_dir(folder) for folder in (plain, bom_crlf, resaved)]
    for report in reports:
        assert report.failed == []
        assert december_2019(report) == DECEMBER_2019_SALES
        assert len(report.lines) == len(reports[0].lines)
    assert [summary.encoding for summary in reports[1].read + reports[2].read] == [
        "utf-8 with BOM"
    ] * 4


def test_each_file_is_summed_up_on_its_own(folder: Path) -> None:
    report = kaggle.read_dir(folder)
    by_name = {summary.name: summary for summary in report.read}
    january = by_name["Sales_January_2019.csv"]
    assert (january.rows_read, january.kept) == (10, 4)
    assert january.dropped["bad date"] == 1 and january.dropped["empty row"] == 1
    assert (
        by_name["Sales_December_2019.csv"].rows_read,
        by_name["Sales_December_2019.csv"].kept,
    ) == (1, 1)


def test_a_file_that_cannot_be_read_is_refused_whole_and_named(folder: Path) -> None:
    (folder / "Sales_February_2019.csv").write_text("Order,Item,Qty\n1,iPhone,1\n")
    (folder / "Sales_March_2019.csv").write_bytes(
        HEADER.encode() + b'141300,Caf\xe9 cable,1,9.99,03/01/19 10:00,"x"\n'
    )
    report = kaggle.read_dir(folder)
    assert report.failed == [
        "Sales_February_2019.csv line 1: not the Kaggle header, found ['Order', 'Item', 'Qty']",
        "Sales_March_2019.csv line 2: not UTF-8 (byte 0xe9); save it as CSV UTF-8",
    ]
    assert {summary.name for summary in report.read} == {
        "Sales_January_2019.csv",
        "Sales_December_2019.csv",
    }
    assert not any(
        line.file in ("Sales_February_2019.csv", "Sales_March_2019.csv") for line in report.lines
    )


def test_utf16_is_read_and_said(folder: Path) -> None:
    (folder / "Sales_January_2019.csv").write_bytes(JANUARY.encode("utf-16"))
    report = kaggle.read_dir(folder)
    assert report.failed == []
    assert {s.name: s.encoding for s in report.read}["Sales_January_2019.csv"] == "utf-16"
    assert len(report.lines) == 5


def test_a_folder_without_sales_files_fails_loudly(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match=r"no \.csv sales files"):
        kaggle.read_dir(tmp_path)


def test_stock_file_with_a_bom_and_crlf(folder: Path) -> None:
    (folder / "Stock_Quantity.csv").write_bytes(
        b"\xef\xbb\xbfProduct,Stock_Quantity\r\niPhone,31000\r\n"
    )
    assert kaggle.read_stock_file(folder / "Stock_Quantity.csv") == {"IPHONE": 31000}


def test_catalog_csv_with_a_bom_keeps_burmese_and_names_bad_lines(tmp_path: Path) -> None:
    header = "sku,name,name_my,category,size,colour,unit_price,reorder_point,opening_stock\r\n"
    good = "TKP-WHT-M,Taikpon jacket,တိုက်ပုံအင်္ကျီ,Jackets,M,White,45000,3,10\r\n"
    path = tmp_path / "catalog.csv"
    path.write_bytes(("\ufeff" + header + good).encode())
    (row,) = parse_catalog(path)
    assert (row.sku, row.name_my, row.unit_price) == ("TKP-WHT-M", "တိုက်ပုံအင်္ကျီ", Decimal(45000))
    path.write_bytes(("\ufeff" + header + good + "TKP-BLK-M,Taikpon,,Jackets,M\r\n").encode())
    with pytest.raises(CatalogError, match=r"catalog\.csv line 3: expected 9 fields, found 5"):
        parse_catalog(path)
