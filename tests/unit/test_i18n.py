"""The Burmese pages: catalogs complete, templates wrapped, kyat/numbers/dates as each
reader expects, the language from the request and never from a global."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from starlette.requests import Request

from pos_app import i18n
from pos_app.i18n import catalogs, formatting
from pos_app.i18n.plan_text import plan_reason
from pos_app.settings import REPO_ROOT, Settings
from pos_app.templating import age, templates


@pytest.fixture(scope="module")
def extracted() -> Catalog:
    return catalogs.extract()


def _ids(catalog: Catalog) -> set[Any]:
    return {message.id for message in catalog if message.id}


def test_extraction_finds_templates_and_python(extracted: Catalog) -> None:
    ids = _ids(extracted)
    assert "Print receipt" in ids  # templates/_paid.html
    assert ("%(num)s item", "%(num)s items") in ids  # ngettext in a template
    assert "wrong username or password" in ids  # N_ in pos_app/auth/service.py
    assert "cash tendered %(tendered)s is less than the %(due)s due" in ids  # gettext in routes
    assert "%(m)s min %(s)s s" in ids  # pos_app/templating.py
    assert len(ids) > 250


def test_every_message_has_a_burmese_translation(extracted: Catalog) -> None:
    burmese = catalogs.read_catalog("my")
    missing_from_catalog = sorted(map(str, _ids(extracted) - _ids(burmese)))
    assert not missing_from_catalog, (
        f"run `posctl i18n extract` and translate: {missing_from_catalog}"
    )
    untranslated = [m for m in catalogs.untranslated(burmese) if (m in _ids(extracted))]
    assert not untranslated, f"no Burmese for: {untranslated}"


def test_translations_keep_every_placeholder() -> None:
    """`%(name)s` in a msgid must be in its msgstr and no other: Babel's checkers."""
    problems = [
        (message.id, [str(error) for error in errors])
        for message, errors in catalogs.read_catalog("my").check()
    ]
    assert not problems


def test_burmese_translations_are_burmese() -> None:
    """A msgstr must not be English left in place: at least some Myanmar letters, unless
    the msgid is a name that stays as it is (API, JSON, WAPE, the brands Excel and Viber)."""
    stays = {"API", "JSON", "WAPE", "Excel", "Viber"}
    for message in catalogs.read_catalog("my"):
        if not message.id or message.id in stays:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            assert re.search("[\u1000-\u109f]", text), (message.id, text)


# --- Templates: no visible word outside _() ----------------------------------------------

JINJA = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.S)
VISIBLE_ATTRIBUTES = {"placeholder", "aria-label", "title", "alt", "hx-confirm"}
# Developer pages, English by design (the REST API's docs).
NOT_CHECKED = {"api_docs.html"}


def _has_words(text: str) -> bool:
    return bool(re.search("[A-Za-z]", text)) and not re.fullmatch(r"\s*[A-Z0-9-]+\s*", text)


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.skip = 0
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("code", "script", "style"):
            self.skip += 1
        for name, value in attrs:
            # An example id (S20261128-101842-68AAC3) is not a word to translate.
            if name in VISIBLE_ATTRIBUTES and value and _has_words(value):
                self.found.append(f'{name}="{value}"')

    def handle_endtag(self, tag: str) -> None:
        if tag in ("code", "script", "style"):
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip and _has_words(data):
            self.found.append(data.strip())


def unwrapped_words(source: str) -> list[str]:
    """Latin letters a person would read, outside Jinja expressions (so outside _())."""
    parser = _VisibleText()
    parser.feed(JINJA.sub(" ", source))
    return parser.found


def test_the_checker_catches_an_unwrapped_word() -> None:
    assert unwrapped_words('<button title="Pay now">Pay</button>') == ['title="Pay now"', "Pay"]
    assert unwrapped_words('<button title="{{ _(\'Pay now\') }}">{{ _("Pay") }}</button>') == []


@pytest.mark.parametrize(
    "template",
    sorted(p.name for p in (REPO_ROOT / "templates").glob("*.html") if p.name not in NOT_CHECKED),
)
def test_templates_wrap_every_visible_word(template: str) -> None:
    source = (REPO_ROOT / "templates" / template).read_text()
    assert unwrapped_words(source) == []


# --- Kyat, numbers, dates ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "locale", "digits", "lakh", "text"),
    [
        (Decimal("45000"), "en", "myanmar", False, "45,000 Ks"),
        (Decimal("45000"), "my", "myanmar", False, "၄၅,၀၀၀ ကျပ်"),
        (Decimal("45000"), "my", "latin", False, "45,000 ကျပ်"),
        (Decimal("1234.5"), "my", "myanmar", False, "၁,၂၃၄.၅၀ ကျပ်"),
        (Decimal("4550000"), "my", "myanmar", True, "၄၅.၅ သိန်း"),
        (Decimal("4550000"), "en", "myanmar", True, "45.5 lakh Ks"),
        (Decimal("100000"), "my", "myanmar", True, "၁ သိန်း"),
        (Decimal("123456789"), "my", "latin", True, "1,234.57 သိန်း"),
        (Decimal("99000"), "my", "myanmar", True, "၉၉,၀၀၀ ကျပ်"),  # under a lakh: kyat
        (0, "my", "myanmar", False, "၀ ကျပ်"),
    ],
)
def test_kyat_in_each_language(
    amount: Decimal, locale: str, digits: Any, lakh: bool, text: str
) -> None:
    assert formatting.kyat(amount, locale, digits, lakh=lakh) == text


def test_dates_and_times_in_myanmar_style() -> None:
    moment = datetime(2026, 12, 1, 14, 5, 9)
    assert formatting.format_date(moment.date(), "my") == "၂၀၂၆ ခုနှစ် ဒီဇင်ဘာ ၁ ရက်"
    assert formatting.format_date(moment.date(), "en") == "2026-12-01"
    assert formatting.format_time(moment, "my") == "၁၄:၀၅:၀၉"
    assert formatting.format_datetime(moment, "my") == "၂၀၂၆ ခုနှစ် ဒီဇင်ဘာ ၁ ရက် ၁၄:၀၅"
    assert formatting.format_weekday_date(date(2026, 12, 1), "my").endswith("(အင်္ဂါ)")
    assert formatting.format_weekday_date(date(2026, 12, 1), "en") == "Tue 1 Dec 2026"
    assert formatting.format_date(date(2026, 1, 31), "my", "latin") == "2026 ခုနှစ် ဇန်နဝါရီ 31 ရက်"


def test_ages_in_burmese() -> None:
    assert age(150, "my") == "၂ မိနစ် ၃၀ စက္ကန့်"
    assert age(150, "en") == "2 min 30 s"
    assert age(None, "my") == "မသုံးရသေး"


def test_plan_reasons_are_said_again_in_burmese() -> None:
    reason = "December last year sold 12, the year before 8; shop trend +5%"
    assert plan_reason(reason, "en") == reason
    said = plan_reason(reason, "my")
    assert said == "မနှစ် ဒီဇင်ဘာ လတွင် ၁၂ ခု ရောင်းရ၊ တနှစ်က ၈ ခု၊ ဆိုင်၏ နှစ်စဉ်လမ်းကြောင်း +၅%"
    assert plan_reason("something else", "my") == "something else"


# --- The language of a request ------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("my-MM,my;q=0.9,en;q=0.8", "my"),
        ("en-US,en;q=0.9", "en"),
        ("fr-FR,fr;q=0.9", "my"),  # none of ours: the shop's language
        ("fr;q=1.0, my;q=0.5, en;q=0.4", "my"),
        ("en;q=0.3, my;q=0.8", "my"),
        (None, "my"),
        ("my;q=0", "my"),
    ],
)
def test_accept_language(header: str | None, expected: str) -> None:
    assert i18n.from_accept_language(header, default="my") == expected
    assert i18n.from_accept_language("xx", default="en") == "en"


def _request(locale: str) -> Request:
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": [], "state": {}})
    request.state.locale = locale
    return request


def _render(name: str, locale: str, **context: Any) -> str:
    template = templates.env.get_template(name)
    settings = Settings(shop_digits="myanmar")
    return template.render(request=_request(locale), settings=settings, **context)


def _namespace(value: Any) -> Any:
    """Dicts as objects, as the templates read a sale (sale.totals.items)."""
    if isinstance(value, dict):
        return SimpleNamespace(**{k: _namespace(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_namespace(v) for v in value]
    return value


def test_the_same_template_renders_in_each_requests_language() -> None:
    sale = {
        "sale_id": "S20261201-140509-ABC123",
        "occurred_at": datetime(2026, 12, 1, 14, 5, 9),
        "register_id": "counter-1",
        "cashier": "cashier",
        "lines": [
            {
                "name": "Taikpon Jacket Black (M)",
                "quantity": 2,
                "list_price": Decimal("45000"),
                "unit_price": Decimal("45000"),
                "discount": 0,
            }
        ],
        "totals": {"items": 2, "total": Decimal("90000"), "discount": 0},
        "payments": [
            {
                "method": "cash",
                "amount": Decimal(90000),
                "tendered": Decimal(100000),
                "change": Decimal(10000),
            }
        ],
    }
    methods = {"cash": "Cash"}
    burmese = _render("_receipt.html", "my", sale=_namespace(sale), methods=methods)
    english = _render("_receipt.html", "en", sale=_namespace(sale), methods=methods)
    for text in (
        "စုစုပေါင်း (ပစ္စည်း ၂ ခု)",
        "၉၀,၀၀၀ ကျပ်",
        "ပြန်အမ်းငွေ",
        "၁၀,၀၀၀ ကျပ်",
        "ငွေသား",
        "၂၀၂၆ ခုနှစ် ဒီဇင်ဘာ ၁ ရက် ၁၄:၀၅:၀၉",
        "ငွေကိုင်: cashier",
        "ကျေးဇူးတင်ပါသည်",
    ):
        assert text in burmese
    for text in ("Total (2 items)", "90,000 Ks", "Change", "10,000 Ks", "Cash", "Cashier: cashier"):
        assert text in english
    assert "ကျပ်" not in english


def test_python_messages_follow_the_request() -> None:
    state: dict[str, Any] = {"locale": "my"}
    token = i18n._request_state.set(state)
    try:
        assert i18n.gettext("Cart %(id)s on hold", id=7) == "ဈေးခြင်း 7 ကို ဆိုင်းထားပြီး"
        state["api"] = True  # the REST API keeps English whatever the user's setting
        i18n.set_request_locale(state, "my")
        state["locale"] = "en"
        i18n.set_request_locale(state, "my")
        assert i18n.gettext("Cart voided") == "Cart voided"
    finally:
        i18n._request_state.reset(token)
    assert i18n.gettext("Cart voided") == "Cart voided"  # outside a request: English


def test_catalogs_are_committed_in_sync(tmp_path: Path) -> None:
    """The .po files hold exactly the extracted messages: nothing stale left behind."""
    burmese = catalogs.read_catalog("my")
    english = catalogs.read_catalog("en")
    extracted = catalogs.extract()
    assert _ids(burmese) == _ids(extracted) == _ids(english)


def test_amounts_typed_in_myanmar_digits_are_read() -> None:
    """A Burmese keyboard types ၅၀,၀၀၀: the counter reads it as 50000."""
    from pos_app.counter.flows import amount_in_kyat
    from pos_app.counter.routes import _int

    assert amount_in_kyat("၅၀,၀၀၀", "cash tendered") == Decimal(50000)
    assert _int("၂", "quantity") == 2


@pytest.mark.parametrize(
    ("locale", "lakh", "digits", "report", "counter"),
    [
        ("my", True, "myanmar", "၄၅.၅ သိန်း", "၄,၅၅၀,၀၀၀ ကျပ်"),
        ("my", False, "myanmar", "၄,၅၅၀,၀၀၀ ကျပ်", "၄,၅၅၀,၀၀၀ ကျပ်"),
        ("my", True, "latin", "45.5 သိန်း", "4,550,000 ကျပ်"),
        ("en", True, "myanmar", "45.5 lakh Ks", "4,550,000 Ks"),
    ],
)
def test_report_amounts_in_lakh_where_the_shop_prefers_it(
    locale: str, lakh: bool, digits: Any, report: str, counter: str
) -> None:
    """Only report pages (kyat(report=True)) switch to lakh; the counter keeps kyat."""
    settings = Settings(report_amounts_in_lakh=lakh, shop_digits=digits)
    template = templates.env.from_string("{{ x | kyat(report=True) }}|{{ x | kyat }}")
    shown = template.render(request=_request(locale), settings=settings, x=Decimal(4550000))
    assert shown == f"{report}|{counter}"
