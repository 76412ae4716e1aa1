"""At the counter, over the cashier's limit: a whole-cart discount approved on the spot
by a manager's personal PIN, a refund (a return, an exchange) likewise; each approval in
the audit log with who asked, who approved, what and how much. PINs are hashed and
throttled like sign-ins. And the tax an admin sets applies to the next sale."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine

from pos_app.auth.cli import create_user_sync, set_pin_sync
from pos_app.auth.tables import user_pins, users
from pos_app.contract import SaleCompleted, SaleReturned
from pos_app.db.tables import outbox, shop_settings
from pos_app.settings import Settings
from pos_app.till.service import ensure_shift_open_sync
from tests.stack_support import log_in

pytestmark = pytest.mark.stack
D = Decimal
JACKET, LONGYI, SHIRT = (
    ("EGY-WHT-S", D(26000)),
    ("LGY-COT-NVY", D(16000)),
    ("BAG-SHN-RED", D(15000)),
)


def person(settings: Settings, role: str, pin: str | None = None) -> tuple[str, str]:
    name, password = f"{role[:3]}-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    create_user_sync(settings, username=name, password=password, role=role)
    if pin is not None:
        set_pin_sync(settings, username=name, pin=pin)
    return name, password


class Counter:
    """A signed-in browser at the counter: posts forms with the session's CSRF token."""

    def __init__(self, client: httpx.Client, token: str) -> None:
        self.client, self.token = client, token

    def post(self, path: str, **form: str) -> httpx.Response:
        return self.client.post(
            path, data={**form, "csrf_token": self.token}, headers={"X-CSRF-Token": self.token}
        )

    def sell(self, *skus: str, **pay: str) -> str:
        for sku in skus:
            assert self.post("/counter/cart/add", sku=sku).status_code == 200
        paid = self.post("/counter/pay", **({"method": "cash", "tendered": "500000"} | pay))
        assert paid.status_code == 201, paid.text[:500]
        found = re.search(r'data-sale-id="([^"]+)"', paid.text)
        assert found is not None
        return found.group(1)


@pytest.fixture
def open_counter(app_url: str, settings: Settings) -> Iterator[tuple[Counter, str]]:
    """A cashier of their own (carts are per cashier) at the register's open shift, and
    a manager with the PIN 4711."""
    ensure_shift_open_sync(settings, cashier="cashier")
    cashier, password = person(settings, "cashier")
    manager, _ = person(settings, "manager", pin="4711")
    with httpx.Client(base_url=app_url, timeout=15) as client:
        yield Counter(client, log_in(client, cashier, password)), manager


def audited(api: httpx.Client, action: str) -> list[dict[str, Any]]:
    return [e for e in api.get("/api/v1/audit").json() if e["action"] == action]


def event_of(mysql: Engine, document_id: str) -> dict[str, object]:
    with mysql.connect() as conn:
        payload = conn.scalar(select(outbox.c.payload).where(outbox.c.document_id == document_id))
    assert payload is not None, document_id
    found: dict[str, object] = json.loads(payload)
    return found


def test_an_over_limit_cart_discount_needs_a_managers_pin(
    open_counter: tuple[Counter, str], api: httpx.Client, mysql: Engine
) -> None:
    counter, manager = open_counter
    for sku in (JACKET[0], LONGYI[0]):  # 42,000
        counter.post("/counter/cart/add", sku=sku)
    within = counter.post("/counter/cart/discount", kind="percent", value="10", reason="regular")
    assert within.status_code == 200 and "4,200 Ks" in within.text
    # 42,000 -> 37,500: 4,500 off is 10.7 %, over the cashier's 10 %.
    wanted = {"kind": "amount", "value": "4,500", "reason": "round down"}
    refused = counter.post("/counter/cart/discount", **wanted)
    assert refused.status_code == 422 and "over your limit of 10 %" in refused.text
    wrong = counter.post("/counter/cart/discount", **wanted, approver=manager, pin="0000")
    assert wrong.status_code == 422 and "wrong manager or PIN" in wrong.text
    approved = counter.post("/counter/cart/discount", **wanted, approver=manager, pin="4711")
    assert approved.status_code == 200, approved.text[:500]
    assert re.search(r'id="cart-total">37,500 Ks<', approved.text)
    assert f"approved by {manager}" in approved.text

    sale_id = counter.sell()
    sale = SaleCompleted.model_validate(event_of(mysql, sale_id))
    assert (sale.totals.subtotal, sale.totals.discount, sale.totals.total) == (
        D(42000),
        D(4500),
        D(37500),
    )
    assert sum(line.line_total for line in sale.lines) == D(37500)
    assert all(line.unit_price * line.quantity == line.line_total for line in sale.lines)
    assert sale.cart_discount is not None and sale.cart_discount.approved_by == manager
    assert sale.cart_discount.amount == D(4500)
    (approval,) = [
        e for e in audited(api, "discount.approved") if e["details"]["approved_by"] == manager
    ]
    details = approval["details"]
    assert isinstance(details, dict)
    assert details["asked_by"] == approval["actor"].removeprefix("user:")
    assert (details["kind"], details["amount"], details["base"]) == ("amount", "4500", "42000.00")
    completed = [e for e in audited(api, "sale.completed") if e["target"] == f"sale:{sale_id}"]
    assert completed[0]["details"]["cart_discount"]["approved_by"] == manager


def test_a_manager_cannot_approve_past_their_own_limit(
    open_counter: tuple[Counter, str],
) -> None:
    counter, manager = open_counter
    counter.post("/counter/cart/add", sku=JACKET[0])
    refused = counter.post(
        "/counter/cart/discount",
        kind="percent",
        value="60",
        reason="x",
        approver=manager,
        pin="4711",
    )
    assert refused.status_code == 422 and "over your limit of 50 %" in refused.text


def test_pins_are_hashed_and_wrong_ones_throttled_like_sign_ins(
    open_counter: tuple[Counter, str], settings: Settings, mysql: Engine
) -> None:
    counter, _ = open_counter
    manager, _ = person(settings, "manager", pin="86420")
    with mysql.connect() as conn:
        stored = conn.scalar(
            select(user_pins.c.pin_hash)
            .join(users, users.c.id == user_pins.c.user_id)
            .where(users.c.username == manager)
        )
    assert stored is not None and stored.startswith("$argon2id$") and "86420" not in stored
    counter.post("/counter/cart/add", sku=JACKET[0])
    form = {"kind": "percent", "value": "20", "reason": "x", "approver": manager}
    answers = [
        counter.post("/counter/cart/discount", **form, pin=f"1{n:03}").text for n in range(5)
    ]
    assert all("wrong manager or PIN" in text for text in answers[:4])
    assert "too many wrong PINs" in answers[4]
    # Now even the right PIN waits: the block holds for this approver from this address.
    held = counter.post("/counter/cart/discount", **form, pin="86420")
    assert held.status_code == 422 and "too many wrong PINs" in held.text
    with pytest.raises(ValueError, match="only managers and admins"):
        set_pin_sync(settings, username=person(settings, "cashier")[0], pin="1234")
    with pytest.raises(ValueError, match="4 to 8 digits"):
        set_pin_sync(settings, username=manager, pin="12ab")


def test_a_cashiers_return_needs_a_managers_pin(
    open_counter: tuple[Counter, str], api: httpx.Client
) -> None:
    counter, manager = open_counter
    sale_id = counter.sell(SHIRT[0])
    back = {"sale_id": sale_id, "qty_1": "1", "reason": "wrong colour", "refund_method": "cash"}
    page = counter.client.get("/counter/returns", params={"sale_id": sale_id})
    assert 'id="refund-approval"' in page.text
    refused = counter.post("/counter/returns", **back)
    assert refused.status_code == 422 and "manager&#39;s approval" in refused.text
    wrong = counter.post("/counter/returns", **back, approver=manager, pin="9999")
    assert wrong.status_code == 422 and "wrong manager or PIN" in wrong.text
    taken = counter.post("/counter/returns", **back, approver=manager, pin="4711")
    assert taken.status_code == 201, taken.text[:500]
    return_id = re.search(r'id="return-id">([^<]+)<', taken.text)
    assert return_id is not None
    (approval,) = [e for e in audited(api, "return.approved") if e["target"] == f"sale:{sale_id}"]
    details = approval["details"]
    assert isinstance(details, dict)
    assert (details["approved_by"], details["return_id"], details["refund"]) == (
        manager,
        return_id.group(1),
        "15000.00",
    )


def test_an_exchange_is_a_return_and_a_sale_in_one_step(
    open_counter: tuple[Counter, str], api: httpx.Client, mysql: Engine
) -> None:
    counter, manager = open_counter
    sale_id = counter.sell(LONGYI[0])
    swap = {
        "sale_id": sale_id,
        "qty_1": "1",
        "reason": "too short",
        "refund_method": "kbzpay",
        "action": "exchange",
        "approver": manager,
        "pin": "4711",
    }
    # A product that does not exist: the return is not kept either.
    failed = counter.post("/counter/returns", **swap, exchange_code="NO-SUCH-THING")
    assert failed.status_code == 422 and "unknown barcode or SKU" in failed.text
    assert api.get(f"/api/v1/sales/{sale_id}").json()["return_ids"] == []

    done = counter.post("/counter/returns", **swap, exchange_code=JACKET[0])
    assert done.status_code == 201, done.text[:500]
    ids = re.search(
        r'id="exchange-return-id">([^<]+)<.*id="exchange-sale-id"[^>]*>([^<]+)<', done.text, re.S
    )
    assert ids is not None
    return_id, new_sale_id = ids.groups()
    assert 'data-amount="10000.00"' in done.text and "The customer pays 10,000 Ks" in done.text
    returned = SaleReturned.model_validate(event_of(mysql, return_id))
    sold = SaleCompleted.model_validate(event_of(mysql, new_sale_id))
    assert (returned.sale_id, returned.totals.refund, returned.refund_method) == (
        sale_id,
        LONGYI[1],
        "kbzpay",
    )
    assert [(x.sku, x.quantity) for x in sold.lines] == [(JACKET[0], 1)]
    assert (sold.totals.total, sold.payment.method) == (JACKET[1], "kbzpay")
    (exchanged,) = [e for e in audited(api, "sale.exchanged") if e["target"] == f"sale:{sale_id}"]
    assert exchanged["details"] == {  # the difference the customer paid, by KBZPay
        "return_id": return_id,
        "new_sale": new_sale_id,
        "refund": "16000.00",
        "charged": "26000.00",
        "difference": "10000.00",
        "method": "kbzpay",
    }
    assert any(
        e["details"]["exchange_sale"] == new_sale_id
        for e in audited(api, "return.approved")
        if e["target"] == f"sale:{sale_id}"
    )


def test_an_integration_exchanges_through_the_api_in_one_step(
    api: httpx.Client, mysql: Engine
) -> None:
    """POST /api/v1/sales/{id}/exchanges: the return and the new sale together, under the
    refund method; a new line that cannot be sold keeps neither."""
    sold = api.post("/api/v1/sales", json={"lines": [{"sku": LONGYI[0], "quantity": 1}]})
    assert sold.status_code == 201, sold.text
    sale_id = sold.json()["sale_id"]
    take_back = {"reason": "too short", "lines": [{"line_no": 1, "quantity": 1}]}
    path = f"/api/v1/sales/{sale_id}/exchanges"

    unknown = [{"sku": "NO-SUCH-THING", "quantity": 1}]
    failed = api.post(path, json={"take_back": take_back, "lines": unknown})
    assert failed.status_code == 422 and "NO-SUCH-THING" in failed.text, failed.text
    assert api.get(f"/api/v1/sales/{sale_id}").json()["return_ids"] == []

    body = {
        "take_back": {**take_back, "refund_method": "kbzpay"},
        "lines": [{"sku": JACKET[0], "quantity": 1}],
    }
    done = api.post(path, json=body)
    assert done.status_code == 201, done.text
    answer = done.json()
    assert D(answer["difference"]) == JACKET[1] - LONGYI[1]
    returned = SaleReturned.model_validate(event_of(mysql, answer["returned"]["return_id"]))
    new_sale = SaleCompleted.model_validate(event_of(mysql, answer["sale"]["sale_id"]))
    assert (returned.sale_id, returned.totals.refund, returned.refund_method) == (
        sale_id,
        LONGYI[1],
        "kbzpay",
    )
    assert [(x.sku, x.quantity) for x in new_sale.lines] == [(JACKET[0], 1)]
    assert (new_sale.totals.total, new_sale.payment.method) == (JACKET[1], "kbzpay")
    assert new_sale.cashier == "tests"  # the key's name, as its sales record it
    # Nothing more to take back: the line is returned already.
    again = api.post(path, json=body)
    assert again.status_code == 422, again.text


def test_the_tax_an_admin_sets_applies_to_the_next_sale(
    app_url: str, api: httpx.Client, users: dict[str, str], settings: Settings, mysql: Engine
) -> None:
    assert settings.tax_mode == "none"  # the environment's default here
    try:
        assert api.get("/api/v1/settings/tax").json()["updated_by"] is None
        bad = api.put("/api/v1/settings/tax", json={"mode": "sometimes", "rate": 5})
        assert bad.status_code == 422
        put = api.put("/api/v1/settings/tax", json={"mode": "added", "rate": "5"})
        assert put.status_code == 200, put.text
        assert put.json()["mode"] == "added" and put.json()["updated_by"].startswith("apikey:")
        sale = api.post("/api/v1/sales", json={"lines": [{"sku": LONGYI[0], "quantity": 1}]})
        assert sale.status_code == 201, sale.text
        assert (sale.json()["totals"]["total"], sale.json()["tax"]["amount"]) == (
            "16800.00",
            "800.00",
        )
        # The admin's page, in the same store.
        with httpx.Client(base_url=app_url, timeout=15) as admin:
            token = log_in(admin, "admin", users["admin"])
            page = admin.post(
                "/admin/tax", data={"mode": "included", "rate": "5", "csrf_token": token}
            )
            assert page.status_code == 200 and "Tax setting saved" in page.text
            assert "set by user:admin" in page.text
        included = api.post("/api/v1/sales", json={"lines": [{"sku": LONGYI[0], "quantity": 1}]})
        assert (included.json()["totals"]["total"], included.json()["tax"]["amount"]) == (
            "16000.00",
            "762.00",  # 16,000 x 5 / 105 = 761.9
        )
        changes = audited(api, "tax.changed")
        assert changes[0]["details"] == {  # newest first
            "from": {"mode": "added", "rate": "5"},
            "to": {"mode": "included", "rate": "5"},
        }
    finally:
        with mysql.begin() as conn:  # back to the environment's default for the others
            conn.execute(delete(shop_settings))
    plain = api.post("/api/v1/sales", json={"lines": [{"sku": LONGYI[0], "quantity": 1}]})
    assert plain.json()["totals"]["total"] == "16000.00" and "tax" not in plain.json()
