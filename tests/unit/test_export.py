"""CSV answers open safely in a spreadsheet: text that looks like a formula stays text."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from pos_app.reports.export import csv_response


def test_formula_text_is_kept_as_text_and_numbers_stay_numbers() -> None:
    response = csv_response(
        ["product", "revenue", "note"],
        [
            ['=HYPERLINK("http://x","click")', Decimal("-1500.00"), None],
            ["+1 Longyi", Decimal("45000"), "@SUM(A1)"],
            ["-sale", 3, "\tlead"],
            ["Taikpon jacket", Decimal("0"), "a=b"],
        ],
        "x.csv",
    )
    rows = list(csv.reader(io.StringIO(bytes(response.body).decode())))
    assert rows[1:] == [
        ['\'=HYPERLINK("http://x","click")', "-1500.00", ""],
        ["'+1 Longyi", "45000", "'@SUM(A1)"],
        ["'-sale", "3", "'\tlead"],
        ["Taikpon jacket", "0", "a=b"],
    ]
