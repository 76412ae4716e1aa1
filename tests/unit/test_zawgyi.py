"""Zawgyi input becomes Unicode: names, search, API and form text; Unicode stays as it is."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from pydantic import ValidationError

from pos_app.catalog.seed import parse_catalog
from pos_app.i18n import zawgyi
from pos_app.imports import kaggle
from pos_app.inventory.movements import ReceiptIn
from pos_app.returns.schemas import ReturnIn
from pos_app.settings import REPO_ROOT

# Typed in Zawgyi (as an old phone or a legacy font sends them) and their Unicode.
ZAWGYI_TO_UNICODE = [
    ("ပိုးေခါင္းေပါင္း ပန္းေရာင္ (22in)", "ပိုးခေါင်းပေါင်း ပန်းရောင် (22in)"),
    ("ခ်ည္ပုဆိုး ကြက္ အျပာ", "ချည်ပုဆိုး ကွက် အပြာ"),
    ("ကတၱီပါဖိနပ္ အနီရင့္ (7)", "ကတ္တီပါဖိနပ် အနီရင့် (7)"),
    ("အရြယ္အစား မွား", "အရွယ်အစား မှား"),
]


def _demo_catalog() -> list[dict[str, str]]:
    with (REPO_ROOT / "data" / "demo_catalog.csv").open(encoding="utf-8") as file:
        return list(csv.DictReader(file))


@pytest.mark.parametrize(("typed", "unicode"), ZAWGYI_TO_UNICODE)
def test_zawgyi_is_detected_and_converted(typed: str, unicode: str) -> None:
    assert typed != unicode
    assert zawgyi.to_unicode(typed) == unicode


def test_unicode_and_english_are_left_alone() -> None:
    catalog = _demo_catalog()
    for row in catalog:
        for text in (row["name"], row["name_my"]):
            assert zawgyi.to_unicode(text) == text
    assert zawgyi.to_unicode("Taikpon Jacket Black (M)") == "Taikpon Jacket Black (M)"
    assert zawgyi.zawgyi_probability("ချည်ပုဆိုး ကွက် အပြာ") < 0.05


def test_every_demo_name_typed_in_zawgyi_comes_back() -> None:
    """The converter and the detector agree on the shop's whole catalog."""
    catalog = _demo_catalog()
    for row in catalog:
        assert zawgyi.to_unicode(zawgyi.to_zawgyi(row["name_my"])) == row["name_my"]


def test_a_short_zawgyi_word_is_searched_in_both_readings() -> None:
    word = zawgyi.to_zawgyi("တိုက်ပုံ")  # too short for the detector to be sure
    assert "တိုက်ပုံ" in zawgyi.search_forms(word)
    assert zawgyi.search_forms("TKP-BLK-M") == ["TKP-BLK-M"]


def test_api_and_form_text_is_stored_as_unicode() -> None:
    body = ReturnIn.model_validate(
        {"reason": "အရြယ္အစား မွား", "lines": [{"line_no": 1, "quantity": 1}]}
    )
    assert body.reason == "အရွယ်အစား မှား"
    receipt = ReceiptIn.model_validate(
        {"supplier": "ေရႊလုံခ်ည္", "lines": [{"sku": "TKP-BLK-M", "quantity": 1}]}
    )
    assert receipt.supplier == zawgyi.to_unicode("ေရႊလုံခ်ည္") == "ရွှေလုံချည်"
    with pytest.raises(ValidationError):  # the limits still hold after converting
        ReturnIn.model_validate({"reason": "", "lines": [{"line_no": 1, "quantity": 1}]})


def test_a_zawgyi_product_name_imported_is_stored_as_unicode(tmp_path: Path) -> None:
    path = tmp_path / "catalog.csv"
    path.write_text(
        "sku,name,name_my,category,size,colour,unit_price,reorder_point,opening_stock\n"
        "GBG-PNK-22,Gaung Baung Silk Pink (22in),ပိုးေခါင္းေပါင္း ပန္းေရာင္ (22in),"
        "Gaung Baung,22in,Pink,32000,3,10\n",
        encoding="utf-8",
    )
    (row,) = parse_catalog(path)
    assert row.name_my == "ပိုးခေါင်းပေါင်း ပန်းရောင် (22in)"


def test_a_zawgyi_product_name_in_a_sales_import_is_kept_as_unicode(tmp_path: Path) -> None:
    (tmp_path / "Sales_January_2019.csv").write_text(
        "Order ID,Product,Quantity Ordered,Price Each,Order Date,Purchase Address\n"
        '141234,ပိုးေခါင္းေပါင္း ပန္းေရာင္ (22in),1,32000,01/22/19 21:25,"1 Main St, Yangon"\n',
        encoding="utf-8",
    )
    (line,) = kaggle.read_dir(tmp_path).lines
    assert line.product == "ပိုးခေါင်းပေါင်း ပန်းရောင် (22in)"
