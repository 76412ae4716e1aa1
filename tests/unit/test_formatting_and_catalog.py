from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from pos_app.catalog.seed import CatalogError, parse_catalog
from pos_app.contract import SaleCompleted
from pos_app.money import kyat
from pos_app.settings import REPO_ROOT
from tests.factories import sale_event


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (Decimal("45000"), "45,000 Ks"),
        (Decimal("45000.00"), "45,000 Ks"),
        (0, "0 Ks"),
        (Decimal("1234.5"), "1,234.50 Ks"),
    ],
)
def test_kyat_formatting(amount: Decimal, text: str) -> None:
    assert kyat(amount) == text


def test_demo_catalog_parses() -> None:
    rows = parse_catalog(REPO_ROOT / "data" / "demo_catalog.csv")
    assert len(rows) >= 40
    assert all(isinstance(row.unit_price, Decimal) for row in rows)


def test_a_bad_catalog_row_names_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "catalog.csv"
    bad.write_text(
        "sku,name,name_my,category,size,colour,unit_price,reorder_point,opening_stock\n"
        "A-1,Longyi,,Longyi,,,15000,2,10\n"
        "A-2,Jacket,,Taikpon,M,,lots,2,10\n"
    )
    with pytest.raises(CatalogError, match="line 3"):
        parse_catalog(bad)


def test_money_travels_as_decimal_strings() -> None:
    event = SaleCompleted.model_validate(sale_event([("A", 3, "0.10")]))
    wire = event.model_dump(mode="json")
    assert wire["lines"][0]["unit_price"] == "0.10"
    assert wire["totals"]["total"] == "0.30"
    assert event.to_kafka()[0] == event.sale_id.encode()
