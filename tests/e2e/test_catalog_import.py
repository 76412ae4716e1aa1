"""Catalogue import and export on the real stack: an .xlsx with two bad rows shows both
with their line numbers, changes nothing before the confirm and exactly the good rows
after; an export re-imports with no changes; the command line does the same."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import Engine, func, select

from pos_app.catalog.barcodes import ean13_for_sku
from pos_app.db.tables import price_history, products
from pos_app.settings import REPO_ROOT, Settings
from tests.stack_support import ChildProcess, log_in, wait_for

pytestmark = pytest.mark.stack
CHANGED = "EGY-CRM-M"  # no other test reads this product
HEADER = ["sku", "name", "name_my", "category", "size", "colour", "unit_price", "barcode"]
HEADER += ["opening_stock"]


def xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def catalogue(mysql: Engine) -> dict[str, tuple[Any, ...]]:
    with mysql.connect() as conn:
        return {
            r.sku: (r.name, r.name_my, r.unit_price, r.barcode, r.active)
            for r in conn.execute(select(products))
        }


def upload(client: httpx.Client, token: str, name: str, data: bytes) -> httpx.Response:
    return client.post(
        "/manager/catalog/import",
        data={"csrf_token": token},
        files={"file": (name, data, "application/octet-stream")},
    )


def cells(page: str, table: str) -> list[list[str]]:
    body = re.search(rf'<table class="grid" id="{table}">(.*?)</table>', page, re.S)
    assert body is not None, page[:2000]
    return [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1), re.S)
        if "<td" in row
    ]


def test_an_xlsx_with_two_bad_rows_applies_exactly_the_good_ones_after_the_confirm(
    app_url: str,
    users: dict[str, str],
    mysql: Engine,
    api: httpx.Client,
    stream_job: ChildProcess,
) -> None:
    numeric_barcode = ean13_for_sku("BO-IMP-3")
    data = xlsx(
        [
            ["BO-IMP-1", "Import Longyi (Free)", "ပုဆိုး", "Longyi", "Free", "Blue", "21000", "", 5],
            [CHANGED, "Eingyi Cream (M) new", "အင်္ကျီ", "Eingyi", "M", "Cream", "26000", "", ""],
            ["BO-IMP-BAD1", "Bad price", "", "Longyi", "", "", "abc", "", ""],
            ["BO-IMP-2", "Import Bag", "", "Bag", "", "", "9000", "", ""],
            ["BO-IMP-BAD2", "Bad code", "", "Bag", "", "", "9000", "2001234567890", ""],
            # Cells as Excel keeps numbers: floats, a 13-digit barcode among them.
            ["BO-IMP-3", "Import Cap", None, "Cap", None, None, 15000.0, int(numeric_barcode), 2.0],
        ]
    )
    before = catalogue(mysql)
    with httpx.Client(base_url=app_url, timeout=30, follow_redirects=False) as manager:
        token = log_in(manager, "manager", users["manager"])
        preview = upload(manager, token, "catalogue.xlsx", data)
        assert preview.status_code == 200, preview.text[:1000]
        bad = cells(preview.text, "import-bad")
        assert [row[0] for row in bad] == ["4", "6"]
        assert "unit_price" in bad[0][1] and "check digit" in bad[1][1]
        adds = cells(preview.text, "import-adds")
        assert [(row[0], row[1]) for row in adds] == [
            ("2", "BO-IMP-1"),
            ("5", "BO-IMP-2"),
            ("7", "BO-IMP-3"),
        ]
        changes = {row[2]: (row[3], row[4]) for row in cells(preview.text, "import-changes")}
        old_name, old_name_my, old_price = before[CHANGED][:3]
        assert changes["name"] == (old_name, "Eingyi Cream (M) new")
        assert changes["unit_price"] == (str(old_price), "26000")
        assert changes["name_my"] == (old_name_my or "\u2013", "အင်္ကျီ")
        assert catalogue(mysql) == before  # nothing before the confirm

        action = re.search(r'action="(/manager/catalog/import/[0-9a-f]+/confirm)"', preview.text)
        assert action is not None
        done = manager.post(action.group(1), data={"csrf_token": token})
        assert done.status_code == 200, done.text[:1000]
        assert "Applied: 3 added, 1 changed; 2 bad rows left out." in done.text
        again = manager.post(action.group(1), data={"csrf_token": token})
        assert again.status_code == 404

    after = catalogue(mysql)
    assert set(after) - set(before) == {"BO-IMP-1", "BO-IMP-2", "BO-IMP-3"}
    assert after[CHANGED][:3] == ("Eingyi Cream (M) new", "အင်္ကျီ", Decimal(26000))
    assert after["BO-IMP-1"][1] == "ပုဆိုး"
    assert after["BO-IMP-3"][2:4] == (Decimal(15000), numeric_barcode)
    assert after["BO-IMP-2"][3] == ean13_for_sku("BO-IMP-2")  # blank: the shop's own
    assert {k: v for k, v in after.items() if k in before and k != CHANGED} == {
        k: v for k, v in before.items() if k != CHANGED
    }
    with mysql.connect() as conn:
        changed_prices = conn.scalar(
            select(func.count()).select_from(price_history).where(price_history.c.sku == CHANGED)
        )
    assert changed_prices == 1

    def stocked() -> bool:
        on_hand = {s["sku"]: s["on_hand"] for s in api.get("/api/v1/stock").json()}
        return on_hand.get("BO-IMP-1") == 5 and on_hand.get("BO-IMP-3") == 2

    wait_for(stocked, timeout=90, what="the imported products' opening stock")


def test_an_export_re_imports_with_no_changes(
    app_url: str, users: dict[str, str], mysql: Engine
) -> None:
    with httpx.Client(base_url=app_url, timeout=30, follow_redirects=False) as manager:
        token = log_in(manager, "manager", users["manager"])
        exported_csv = manager.get("/manager/catalog/export.csv")
        exported_xlsx = manager.get("/manager/catalog/export.xlsx")
        assert exported_csv.status_code == exported_xlsx.status_code == 200
        assert exported_csv.content.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads UTF-8
        text = exported_csv.content.decode("utf-8-sig")
        assert "ချည်ပုဆိုး" in text  # Burmese intact
        sheet = load_workbook(io.BytesIO(exported_xlsx.content)).worksheets[0]
        assert sheet.max_row == text.count("\r\n")  # the same rows, header included
        before = catalogue(mysql)
        for name, data in (
            ("catalogue.csv", exported_csv.content),
            ("catalogue.csv", exported_csv.content[3:]),  # without the BOM
            ("catalogue.xlsx", exported_xlsx.content),
        ):
            preview = upload(manager, token, name, data)
            assert preview.status_code == 200, preview.text[:500]
            summary = re.search(r'id="import-summary">([^<]*)<', preview.text)
            assert summary is not None
            assert summary.group(1).startswith("0 to add, 0 to change, ")
            assert summary.group(1).endswith(" unchanged, 0 bad")
            assert "confirm-import" not in preview.text
        for name, data, words in (
            ("notes.txt.pdf", b"%PDF", "not a .csv or .xlsx"),
            ("catalogue.xlsx", b"not a zip", "not an Excel .xlsx file"),
            ("catalogue.csv", b"sku,price\nX,1\n", "unknown columns price"),
            ("catalogue.csv", b"sku,name\nX,\xff\n", "not UTF-8"),
        ):
            refused = upload(manager, token, name, data)
            assert refused.status_code == 422 and words in refused.text, refused.text[:800]
        assert catalogue(mysql) == before


def test_the_command_line_previews_and_applies(
    settings: Settings, mysql: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "catalogue.csv"
    path.write_text(
        "sku,name,category,unit_price\nBO-CLI-1,Cli Scarf,Scarf,7000\nBO-CLI-2,Cli Bad,Scarf,-1\n",
        encoding="utf-8",
    )

    def posctl(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pos_app.cli", "catalog", *args],
            env={**os.environ, **settings.as_env()},
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )

    looked = posctl("import", str(path))
    assert looked.returncode == 1, looked.stderr  # a bad row
    assert "1 to add, 0 to change, 0 unchanged, 1 bad" in looked.stdout
    assert "line 3: bad: unit_price" in looked.stdout
    assert "BO-CLI-1" not in catalogue(mysql)
    applied = posctl("import", str(path), "--yes")
    assert "applied 1 rows" in applied.stdout, applied.stdout + applied.stderr
    assert set(catalogue(mysql)) >= {"BO-CLI-1"} and "BO-CLI-2" not in catalogue(mysql)
    exported = posctl("export", str(tmp_path / "out.xlsx"))
    assert exported.returncode == 0, exported.stderr
    again = posctl("import", str(tmp_path / "out.xlsx"))
    assert again.returncode == 0 and " 0 to add, 0 to change, " in again.stdout
