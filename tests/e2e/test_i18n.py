"""The pages in Burmese for a person who works in Burmese, English for one who does not,
the language switch, the sign-in page following the browser, and the API staying English."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine, select

from pos_app.auth.cli import create_user_sync
from pos_app.auth.tables import users as users_table
from pos_app.db.engine import make_sync_engine
from pos_app.db.tables import sale_payments
from pos_app.i18n.zawgyi import to_zawgyi
from pos_app.settings import Settings
from pos_app.till.service import ensure_shift_open_sync
from tests.stack_support import ChildProcess, log_in, wait_for

pytestmark = pytest.mark.stack

MYANMAR = re.compile("[\u1000-\u109f]")
# Every page a manager or admin opens, with a Burmese word each must show.
PAGES = {
    "/": "ဈေးခြင်း",
    "/counter/sales": "ယနေ့ အရောင်းများ",
    "/counter/returns": "ပစ္စည်း ပြန်အပ်ခြင်း",
    "/manager/today": "ယနေ့",
    "/manager/dashboard": "လအလိုက် အရောင်း",
    "/manager/top-products": "လအလိုက် ရောင်းအားကောင်း ပစ္စည်းများ",
    "/manager/low-stock": "လက်ကျန်နည်း",
    "/manager/refill-plan": "ပစ္စည်းဖြည့် အစီအစဉ်",
    "/manager/stock-movements": "ပစ္စည်း လက်ခံခြင်းနှင့် လက်ကျန် ပြင်ဆင်ခြင်း",
    "/manager/pipeline": "ပို့ရန် စောင့်နေသည်",
    "/admin/users": "အသုံးပြုသူ အသစ်",
    "/admin/api-keys": "API ကီး အသစ်",
    "/admin/audit": "စစ်ဆေးမှတ်တမ်း",
}
# English words that must not be left on a Burmese page.
ENGLISH = ("Sign out", "Today's sales", "Stock alerts", "Total", "Save", "Show", "Counter")


def _user(settings: Settings, role: str, locale: str | None) -> tuple[str, str]:
    username, password = f"{role}-{uuid.uuid4().hex[:8]}", f"pw-{uuid.uuid4().hex}"
    create_user_sync(settings, username=username, password=password, role=role, locale=locale)
    return username, password


@pytest.fixture
def burmese_admin(app_url: str, settings: Settings) -> Iterator[tuple[httpx.Client, str, str]]:
    username, password = _user(settings, "admin", "my")
    with httpx.Client(base_url=app_url, timeout=30) as client:
        token = log_in(client, username, password)
        yield client, token, username


def _lang(page: httpx.Response) -> str:
    found = re.search(r'<html lang="([^"]+)">', page.text)
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize("path", sorted(PAGES))
def test_every_page_is_in_burmese_for_a_burmese_user(
    burmese_admin: tuple[httpx.Client, str, str], path: str
) -> None:
    client, _, _ = burmese_admin
    page = client.get(path)
    assert page.status_code == 200, page.text[:500]
    assert _lang(page) == "my"
    assert PAGES[path] in page.text
    visible = re.sub(
        r"<[^>]+>", " ", re.sub(r"<(script|style|code)\b.*?</\1>", " ", page.text, flags=re.S)
    )
    for word in ENGLISH:
        assert not re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", visible), word


def test_the_top_bar_switches_a_persons_language(
    burmese_admin: tuple[httpx.Client, str, str],
) -> None:
    client, token, _ = burmese_admin
    assert 'id="language-en"' in client.get("/manager/today").text
    switched = client.post(
        "/account/language",
        data={"locale": "en", "next": "/manager/today", "csrf_token": token},
        follow_redirects=False,
    )
    assert switched.status_code == 303 and switched.headers["location"] == "/manager/today"
    page = client.get("/manager/today")
    assert _lang(page) == "en" and "Stock alerts" in page.text and 'id="language-my"' in page.text
    refused = client.post("/account/language", data={"locale": "fr", "csrf_token": token})
    assert refused.status_code == 422


def test_the_sign_in_page_follows_the_browser(app_url: str) -> None:
    burmese = httpx.get(f"{app_url}/login", headers={"Accept-Language": "my-MM,my;q=0.9,en;q=0.5"})
    assert _lang(burmese) == "my" and "ဝင်ရန်" in burmese.text
    english = httpx.get(f"{app_url}/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert _lang(english) == "en" and "Sign in" in english.text


def _locale_of(settings: Settings, username: str) -> str:
    engine = make_sync_engine(settings)
    try:
        with engine.connect() as conn:
            return str(
                conn.execute(
                    select(users_table.c.locale).where(users_table.c.username == username)
                ).scalar_one()
            )
    finally:
        engine.dispose()


def test_a_new_user_starts_in_the_shops_language_and_the_admin_can_change_it(
    burmese_admin: tuple[httpx.Client, str, str], settings: Settings
) -> None:
    burmese_shop = settings.model_copy(update={"shop_locale": "my"})
    username, _ = _user(burmese_shop, "cashier", None)
    assert _locale_of(settings, username) == "my"
    client, token, _ = burmese_admin
    made = f"new-{uuid.uuid4().hex[:8]}"
    created = client.post(
        "/admin/users",
        data={
            "username": made,
            "password": "a-long-password",
            "role": "cashier",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text[:500]
    assert _locale_of(settings, made) == settings.shop_locale
    changed = client.post(
        f"/admin/users/{made}/locale",
        data={"locale": "my", "csrf_token": token},
        follow_redirects=False,
    )
    assert changed.status_code == 303
    assert _locale_of(settings, made) == "my"


# EGY-CRM-XL (28,000 Ks): sold by no other e2e test, whose stock figures it would move.
def test_a_burmese_cashier_sells_in_burmese_and_the_api_stays_english(
    app_url: str, settings: Settings
) -> None:
    username, password = _user(settings, "cashier", "my")
    ensure_shift_open_sync(settings, cashier=username)  # the counter sells during a shift
    with httpx.Client(base_url=app_url, timeout=30) as client:
        log_in(client, username, password)
        headers = {
            "X-CSRF-Token": re.findall(r'name="csrf_token" value="([^"]+)"', client.get("/").text)[
                0
            ]
        }
        added = client.post("/counter/cart/add", data={"sku": "EGY-CRM-XL"}, headers=headers)
        assert "ထည့်ပြီး" in added.text  # "Added …"
        assert "ပစ္စည်း ၁ ခု" in added.text and "၂၈,၀၀၀ ကျပ်" in added.text
        short = client.post(
            "/counter/pay", data={"method": "cash", "tendered": "20000"}, headers=headers
        )
        assert short.status_code == 422
        assert "ပေးငွေ ၂၀,၀၀၀ ကျပ် သည် ပေးရမည့် ၂၈,၀၀၀ ကျပ် ထက် နည်းနေသည်" in short.text
        paid = client.post(
            "/counter/pay", data={"method": "cash", "tendered": "50000"}, headers=headers
        )
        assert paid.status_code == 201, paid.text[:500]
        for text in ("ငွေရှင်းပြီး", "ပြန်အမ်းငွေ", "၂၂,၀၀၀ ကျပ်", "ပြေစာ ထုတ်မည်", "ငွေသား"):
            assert text in paid.text
        # The REST API answers a Burmese person's browser in English, with a code.
        missing = client.get("/api/v1/sales/NOSALE")
        assert missing.status_code == 404
        assert missing.json()["code"] == "not_found"
        assert not MYANMAR.search(missing.json()["detail"])


def test_a_zawgyi_typed_search_finds_the_unicode_product(app_url: str, settings: Settings) -> None:
    typed = to_zawgyi("ပိုးခေါင်းပေါင်း ပန်းရောင် (22in)")  # as an old phone sends it
    assert typed != "ပိုးခေါင်းပေါင်း ပန်းရောင် (22in)"
    username, password = _user(settings, "cashier", "my")
    with httpx.Client(base_url=app_url, timeout=30) as client:
        log_in(client, username, password)
        page = client.get("/")
        assert typed in page.text  # the tile filter matches Zawgyi typing too
        token = re.findall(r'name="csrf_token" value="([^"]+)"', page.text)[0]
        added = client.post("/counter/scan", data={"code": typed}, headers={"X-CSRF-Token": token})
        assert added.status_code == 200, added.text[:500]
        assert 'data-sku="GBG-PNK-22"' in added.text


def test_payment_methods_and_short_words_read_right_in_burmese(
    burmese_admin: tuple[httpx.Client, str, str],
    api: httpx.Client,
    stream_job: ChildProcess,
    mysql: Engine,
) -> None:
    """The payments report names each method in Burmese (not its English code), and "To"
    beside a date says the range's end, not "supplier" (its word on a purchase order)."""
    sale = api.post(
        "/api/v1/sales",
        json={"lines": [{"sku": "BAG-SHN-GLD", "quantity": 1}], "payment": {"method": "cash"}},
    )
    assert sale.status_code == 201, sale.text
    sale_id = sale.json()["sale_id"]

    def booked() -> bool:
        with mysql.connect() as conn:
            found = conn.scalar(
                select(sale_payments.c.payment_id).where(sale_payments.c.document_id == sale_id)
            )
        return found is not None

    wait_for(booked, timeout=90, what="the sale's payment in sale_payments")
    day = f"{sale_id[1:5]}-{sale_id[5:7]}-{sale_id[7:9]}"
    client, _, _ = burmese_admin
    page = client.get("/manager/payments", params={"from": day, "to": day})
    assert page.status_code == 200, page.text[:500]
    assert re.search(r'<tr data-method="cash"><td>ငွေသား</td>', page.text)
    assert not re.search(r"<td>(Cash|cash)</td>", page.text)
    assert 'ဆုံးရက် <input type="date" name="to"' in page.text
    assert 'ပေးသွင်းသူ <input type="date"' not in page.text
