"""Commercial tax, "included" and then "added", on known answers: the sale event and its
receipt, the sale totals, the return, and the monthly tax report after the pipeline.

Both shops' apps run on the test shop's database and topics with their own tax setting."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select

from pos_app.db.tables import sale_totals, sales
from pos_app.settings import Settings
from tests.e2e.test_rebuild import wait_applied
from tests.stack_support import ChildProcess, log_in, running_app

pytestmark = pytest.mark.stack
D = Decimal
# 1 % off 15,000 Ks is 14,850 Ks: 5 % of it is 742.50 (added) and 707.14 (included).
UNEVEN = {"sku": "BAG-SHN-RED", "quantity": 1, "discount_percent": "1", "discount_reason": "loyal"}
EVEN = {"sku": "LGY-COT-NVY", "quantity": 1}  # 16,000 Ks
# mode -> [(lines, base, tax, total)] for the two sales, then the return of the first.
KNOWN = {
    # 14,850 x 5/105 = 707.14 -> 707; 30,850 x 5/105 = 1,469.05 -> 1,469
    "included": [
        ([UNEVEN], D(14850), D(707), D(14850)),
        ([UNEVEN, EVEN], D(30850), D(1469), D(30850)),
    ],
    # 742.50 -> 743 (half up); 30,850 x 5 % = 1,542.50 -> 1,543
    "added": [
        ([UNEVEN], D(14850), D(743), D(15593)),
        ([UNEVEN, EVEN], D(30850), D(1543), D(32393)),
    ],
}


@pytest.fixture(scope="module")
def shops(settings: Settings, logs_dir: Path) -> Iterator[dict[str, str]]:
    with (
        running_app(settings.model_copy(update={"tax_mode": "included"}), logs_dir) as included,
        running_app(settings.model_copy(update={"tax_mode": "added"}), logs_dir) as added,
    ):
        yield {"included": included, "added": added}


def cashier_at(
    url: str, users: dict[str, str], role: str = "cashier"
) -> tuple[httpx.Client, dict[str, str]]:
    client = httpx.Client(base_url=url, timeout=15)
    log_in(client, role, users[role])
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text)
    assert token is not None
    return client, {"X-CSRF-Token": token.group(1)}


@pytest.mark.parametrize("mode", ["included", "added"])
def test_tax_is_exact_on_known_answers(
    mode: str,
    shops: dict[str, str],
    users: dict[str, str],
    api: httpx.Client,
    stream_job: ChildProcess,
    mysql: Engine,
) -> None:
    client, headers = cashier_at(shops[mode], users)
    try:
        sold: list[dict[str, Any]] = []
        for lines, base, tax, total in KNOWN[mode]:
            answer = client.post(
                "/api/v1/sales",
                json={"lines": lines, "payment": {"method": "card"}},
                headers=headers,
            )
            assert answer.status_code == 201, answer.text
            sale = answer.json()
            assert sale["tax"] == {
                "mode": mode,
                "rate": "5",
                "base": f"{base}.00",
                "amount": f"{tax}.00",
            }
            assert (D(sale["totals"]["tax"]), D(sale["totals"]["total"])) == (tax, total)
            assert D(sale["payment"]["amount"]) == total
            receipt = client.get(f"/counter/receipts/{sale['sale_id']}")
            assert receipt.status_code == 200
            shown = re.search(r'id="receipt-tax">([^<]+)<', receipt.text)
            assert shown is not None and shown.group(1) == f"{tax:,} Ks"
            assert (
                re.search(r'id="receipt-total">([^<]+)<', receipt.text).group(1) == f"{total:,} Ks"
            )  # type: ignore[union-attr]
            sold.append(sale)
    finally:
        client.close()
    # A refund is a manager's (returns:write).
    office, office_headers = cashier_at(shops[mode], users, "manager")
    try:
        back = office.post(
            f"/api/v1/sales/{sold[0]['sale_id']}/returns",
            json={"reason": "faulty", "lines": [{"line_no": 1, "quantity": 1}]},
            headers=office_headers,
        )
        assert back.status_code == 201, back.text
    finally:
        office.close()
    _, base0, tax0, total0 = KNOWN[mode][0]
    assert back.json()["tax"]["amount"] == f"{tax0}.00"
    assert D(back.json()["totals"]["refund"]) == total0  # added tax is refunded too

    wait_applied(mysql, [s["event_id"] for s in sold] + [back.json()["event_id"]])
    ids = [s["sale_id"] for s in sold]
    with mysql.connect() as conn:
        booked = {
            r.document_id: (r.kind, r.tax_mode, r.base, r.tax, r.net, r.total)
            for r in conn.execute(select(sale_totals).where(sale_totals.c.sale_id.in_(ids)))
        }
        lines_total = conn.scalar(select(func.sum(sales.c.sales)).where(sales.c.sale_id.in_(ids)))
    expected = {}
    for sale, (_, base, tax, total) in zip(sold, KNOWN[mode], strict=True):
        net = base - tax if mode == "included" else base
        expected[sale["sale_id"]] = ("sale", mode, base, tax, net, total)
    net0 = base0 - tax0 if mode == "included" else base0
    expected[back.json()["return_id"]] = ("refund", mode, -base0, -tax0, -net0, -total0)
    assert booked == expected
    assert lines_total == sum(base for _, base, _, _ in KNOWN[mode])  # lines stay pre-tax

    # The monthly report: this mode's month is the second sale's tax alone.
    day = sold[0]["occurred_at"][:10]
    report = api.get("/api/v1/reports/tax", params={"from": day, "to": day})
    assert report.status_code == 200, report.text
    (month,) = [m for m in report.json()["months"] if m["mode"] == mode]
    _, base1, tax1, _ = KNOWN[mode][1]
    assert (D(month["tax"]), D(month["base"]), month["receipts"], month["refunds"]) == (
        tax1,
        base1,
        2,
        1,
    )
    with mysql.connect() as conn:
        grouped = conn.scalar(
            select(func.sum(sale_totals.c.tax)).where(
                sale_totals.c.tax_mode == mode, sale_totals.c.doc_date == day
            )
        )
    assert D(month["tax"]) == grouped
