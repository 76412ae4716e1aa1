"""The back office's pure rules: barcodes, product input, the size-by-colour grid."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from pos_app.catalog.barcodes import (
    BAD_CHECK_DIGIT,
    barcode_problem,
    ean13_check_digit,
    ean13_for_sku,
)
from pos_app.catalog.families import Family, FamilyRejected, family_products, parse_colours
from pos_app.catalog.labels import barcode_svg
from pos_app.catalog.products import ProductIn, ProductPatch
from pos_app.catalog.spreadsheet import COLUMNS, read_table, to_csv, to_xlsx
from tests.barcode_reader import decode_ean13_svg


def test_in_store_codes_are_valid_ean13_in_the_shops_range() -> None:
    codes = {ean13_for_sku("TKP-WHI-M", attempt) for attempt in range(5)}
    assert len(codes) == 5  # each draw another code
    for code in codes:
        assert len(code) == 13 and "20" <= code[:2] <= "29"
        assert code[-1] == ean13_check_digit(code[:12])
        assert barcode_problem(code) is None


def test_a_mistyped_barcode_is_refused() -> None:
    assert barcode_problem("4006381333931") is None  # a published EAN-13
    assert barcode_problem("4006381333932") == BAD_CHECK_DIGIT
    assert barcode_problem("12ab") is not None
    assert barcode_problem("1234567") is not None  # too short
    assert barcode_problem("12345670") is None  # EAN-8 length, taken as scanned


def test_product_input_is_checked() -> None:
    ok = ProductIn(sku="tkp-wht-m", name="T", category="Jacket", unit_price=Decimal("45000"))
    assert ok.sku == "TKP-WHT-M" and ok.barcode is None and ok.opening_stock == 0
    for bad in (
        {"unit_price": Decimal("45000.50")},  # kyat are whole
        {"unit_price": Decimal(0)},
        {"barcode": "4006381333932"},
        {"sku": "has space"},
        {"opening_stock": -1},
    ):
        with pytest.raises(ValidationError):
            ProductIn.model_validate(
                {"sku": "X", "name": "T", "category": "C", "unit_price": "1", **bad}
            )


def test_a_patch_knows_what_was_sent_and_clears_blanks() -> None:
    patch = ProductPatch.model_validate({"unit_price": "52000", "name_my": "", "cost_price": ""})
    assert patch.changes() == {"unit_price": Decimal(52000), "name_my": None, "cost_price": None}


def family(**changes: object) -> Family:
    base = {
        "sku_prefix": "tkp",
        "style": "Taikpon Jacket",
        "style_my": "တိုက်ပုံ",
        "category": "Jacket",
        "unit_price": Decimal(68000),
        "cost_price": Decimal(40000),
        "reorder_point": 2,
        "sizes": ["S", "M", "L", "XL"],
        "colours": parse_colours("White:အဖြူ, Black"),
    }
    return Family(**{**base, **changes})  # type: ignore[arg-type]


def test_a_grid_makes_one_product_per_size_and_colour() -> None:
    made = family_products(family(), {(0, 1): 5, (1, 3): 2})
    assert [p.sku for p in made] == [
        "TKP-WHI-S",
        "TKP-WHI-M",
        "TKP-WHI-L",
        "TKP-WHI-XL",
        "TKP-BLA-S",
        "TKP-BLA-M",
        "TKP-BLA-L",
        "TKP-BLA-XL",
    ]
    white_m = made[1]
    assert white_m.name == "Taikpon Jacket White (M)"  # the counter's tile groups by "(M)"
    assert white_m.name_my == "တိုက်ပုံ အဖြူ (M)"
    assert (white_m.style, white_m.colour, white_m.size) == ("Taikpon Jacket", "White", "M")
    assert [p.opening_stock for p in made] == [0, 5, 0, 0, 0, 0, 0, 2]
    assert made[4].name_my == "တိုက်ပုံ Black (S)"  # no Burmese colour given: the English


def test_a_grid_refuses_what_would_clash() -> None:
    with pytest.raises(FamilyRejected, match="same SKU"):
        family_products(family(colours=parse_colours("Green, Grey, Greenish")), {})
    with pytest.raises(FamilyRejected):
        family_products(family(sizes=[]), {})
    with pytest.raises(FamilyRejected):
        family_products(family(sizes=[str(n) for n in range(60)]), {})


def test_a_labels_barcode_reads_back_as_its_code() -> None:
    for code in (ean13_for_sku("TKP-WHI-M"), "4006381333931", ean13_for_sku("LGY-COT-BLU", 3)):
        svg = barcode_svg(code)
        assert decode_ean13_svg(svg) == code
        assert 'style="' not in svg  # the pages' CSP blocks inline styles: fills are attributes
        assert f'data-code="{code}"' in svg
    assert barcode_svg("12345670").startswith("<svg")  # not EAN-13: drawn as Code 128


def test_the_catalogue_file_round_trips_and_keeps_formulas_as_text() -> None:
    row = {c: None for c in COLUMNS} | {
        "sku": "X-1",
        "name": "=HYPERLINK(1)",
        "name_my": "ပုဆိုး",
        "category": "Longyi",
        "unit_price": Decimal("64000.00"),
        "barcode": "2001234567893",
        "reorder_point": 3,
        "active": "yes",
    }
    data = to_csv([row])
    assert data.startswith(b"\xef\xbb\xbf")
    assert "'=HYPERLINK(1)" in data.decode("utf-8-sig")  # a spreadsheet shows it as text
    for name, blob in (("c.csv", data), ("c.csv", data[3:]), ("c.xlsx", to_xlsx([row]))):
        ((line, read),) = read_table(name, blob)
        assert line == 2
        assert read["name"] == "=HYPERLINK(1)" and read["name_my"] == "ပုဆိုး"
        assert read["unit_price"] == "64000" and read["barcode"] == "2001234567893"
