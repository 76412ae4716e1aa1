"""The counter's pure helpers: in-store barcodes, tiles by style with sizes in order."""

from __future__ import annotations

from decimal import Decimal

from pos_app.catalog.seed import ean13_check_digit, ean13_for_sku, parse_catalog
from pos_app.catalog.service import Product
from pos_app.contract import EventLine, EventTotals
from pos_app.counter.routes import variant_families
from pos_app.settings import REPO_ROOT
from pos_app.templating import dom_id


def test_ean13_check_digits() -> None:
    assert ean13_check_digit("400638133393") == "1"  # a published EAN-13: 4006381333931
    code = ean13_for_sku("TKP-BLK-M")
    assert len(code) == 13 and code.startswith("2") and code == ean13_for_sku("TKP-BLK-M")
    assert code[-1] == ean13_check_digit(code[:12])


def test_the_demo_catalog_has_a_distinct_barcode_per_product() -> None:
    rows = parse_catalog(REPO_ROOT / "data" / "demo_catalog.csv")
    codes = [row.barcode for row in rows]
    assert all(codes) and len(set(codes)) == len(rows)
    assert all(c == ean13_for_sku(r.sku) for c, r in zip(codes, rows, strict=True))


def product(sku: str, name: str, size: str) -> Product:
    return Product(
        sku=sku,
        name=name,
        name_my=None,
        category="Taikpon",
        size=size,
        colour="Black",
        unit_price=Decimal(68000),
        reorder_point=1,
        active=True,
    )


def test_sizes_share_a_tile_smallest_first() -> None:
    items = [
        product("T-L", "Taikpon Black (L)", "L"),
        product("T-XL", "Taikpon Black (XL)", "XL"),
        product("T-S", "Taikpon Black (S)", "S"),
        product("S-10", "Sandals (10)", "10"),
        product("S-7", "Sandals (7)", "7"),
    ]
    families = dict(variant_families(items)["Taikpon"])
    assert [p.sku for p in families["Taikpon Black"]] == ["T-S", "T-L", "T-XL"]
    assert [p.sku for p in families["Sandals"]] == ["S-7", "S-10"]


def test_dom_ids_and_discounted_totals() -> None:
    assert dom_id("TKP BLK/M") == "TKP_BLK_M"
    line = EventLine(
        line_no=1,
        sku="X",
        name="X",
        quantity=2,
        unit_price=Decimal("14400"),
        line_total=Decimal("28800"),
        list_price=Decimal("16000"),
        discount=Decimal("3200"),
    )
    totals = EventTotals.of([line])
    assert (totals.subtotal, totals.discount, totals.total) == (32000, 3200, 28800)
