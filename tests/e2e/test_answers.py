"""The manager's questions on a data set whose answers are known by construction:
sales by year, month and day; the best products and their ties; the refill plan and
its backtest. Events with chosen times go through the real pipeline (Kafka -> stream
job -> MySQL and MongoDB); the answers come from the app's REST API and pages."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import text

from pos_app.auth.cli import create_api_key_sync
from pos_app.auth.roles import ALL_SCOPES
from pos_app.contract import EventLine, EventPayment, EventTotals, SaleCompleted
from pos_app.db.engine import make_async_engine
from pos_app.planning.forecast import MONTH_NAMES, add_months
from pos_app.planning.history import fold, load_history
from pos_app.settings import Settings
from tests.factories import return_event
from tests.stack_support import ChildProcess, log_in, wait_for

pytestmark = pytest.mark.stack
YANGON = ZoneInfo("Asia/Yangon")
RUN = uuid.uuid4().hex[:6]
REPORT_STORE = f"answers-r-{RUN}"  # a store of its own: its totals are exactly ours
PLAN_STORE = f"answers-p-{RUN}"
RETURN_STORE = f"answers-x-{RUN}"
A, B, C, D = "LGY-COT-BLU", "TKP-BLK-M", "BAG-SHN-RED", "EGY-WHT-M"
E, F, G = "TKP-WHT-M", "SDL-BLK-8", "GBG-WHT-23"
X = "SDL-MRN-10"
Publish = Callable[[list[tuple[bytes | None, bytes]]], None]


@pytest.fixture(scope="module")
def auth_headers(settings: Settings) -> dict[str, str]:
    """This module's integration key: every scope, for the shop's store and the stores
    of its own made-up histories."""
    stores = [settings.store_id, REPORT_STORE, PLAN_STORE, RETURN_STORE]
    key = create_api_key_sync(settings, name="answers", scopes=sorted(ALL_SCOPES), stores=stores)
    return {"Authorization": f"Bearer {key}"}


def sale(store: str, when: str, *lines: tuple[str, int, str]) -> SaleCompleted:
    """lines: (sku, quantity, unit price); when: shop-local ISO time with its offset."""
    event_lines = [
        EventLine(
            line_no=n,
            sku=sku,
            name=sku,
            quantity=qty,
            unit_price=Decimal(price),
            line_total=Decimal(price) * qty,
        )
        for n, (sku, qty, price) in enumerate(lines, start=1)
    ]
    totals = EventTotals.of(event_lines)
    return SaleCompleted(
        event_id=str(uuid.uuid4()),
        sale_id=f"T{uuid.uuid4().hex[:12]}",
        store_id=store,
        register_id="test",
        cashier="test",
        occurred_at=datetime.fromisoformat(when),
        currency="MMK",
        lines=event_lines,
        totals=totals,
        payment=EventPayment(method="cash", amount=totals.total),
    )


# Sales of REPORT_STORE. s2 is 00:15 on 1 January in Yangon but still 31 December in UTC:
# it must count on the local date. March has ties: D and E sold 68,000 each (4 units vs
# 1), F and G 34,000 and 2 units each (so the SKU decides: GBG-... before SDL-...).
REPORT_SALES = [
    sale(REPORT_STORE, "2024-06-15T10:00:00+06:30", (A, 2, "18000"), (B, 1, "68000")),
    sale(REPORT_STORE, "2025-01-01T00:15:00+06:30", (A, 1, "18000")),
    sale(REPORT_STORE, "2025-01-20T12:00:00+06:30", (B, 1, "68000"), (C, 3, "15000")),
    sale(REPORT_STORE, "2025-01-20T18:00:00+06:30", (C, 2, "15000")),
    sale(REPORT_STORE, "2025-03-05T09:00:00+06:30", (D, 4, "17000")),
    sale(REPORT_STORE, "2025-03-06T09:00:00+06:30", (E, 1, "68000")),
    sale(REPORT_STORE, "2025-03-07T09:00:00+06:30", (F, 2, "17000"), (G, 2, "17000")),
]


def plan_months(settings: Settings) -> tuple[tuple[int, int], list[tuple[int, int]]]:
    """The origin (this month) and the three months the plan covers."""
    today = settings.today()
    origin = (today.year, today.month)
    return origin, [add_months(origin, k) for k in (1, 2, 3)]


def mid_month(month: tuple[int, int]) -> str:
    return f"{month[0]:04d}-{month[1]:02d}-15T12:00:00+06:30"


@pytest.fixture(scope="module")
def answers_data(
    settings: Settings,
    stream_job: ChildProcess,
    publish: Publish,
    app_url: str,
    auth_headers: dict[str, str],
    mongo: Any,
    mysql: Any,
) -> Iterator[None]:
    api = httpx.Client(base_url=app_url, timeout=15, headers=auth_headers)
    origin, _ = plan_months(settings)
    # X sold 4 and 10 in the two months 24 and 23 months back, 6 and 15 twelve and
    # eleven months back: the shop's trend is (6 + 15) / (4 + 10) = +50%.
    plan_sales = [
        sale(PLAN_STORE, mid_month(add_months(origin, back)), (X, units, "42000"))
        for back, units in ((-24, 4), (-23, 10), (-12, 6), (-11, 15))
    ]
    # One year of history, then a return of 3 of the 8 sold eleven months back.
    return_sales = [sale(RETURN_STORE, mid_month(add_months(origin, -11)), (X, 8, "42000"))]
    events = REPORT_SALES + plan_sales + return_sales
    publish([e.to_kafka() for e in events])

    def applied() -> bool:
        stores = {REPORT_STORE: 7, PLAN_STORE: 4, RETURN_STORE: 1}
        for store, count in stores.items():
            report = api.get(
                "/api/v1/reports/sales", params={"granularity": "year", "store": store}
            )
            if report.json()["totals"]["sales"] != count:
                return False
        return True

    wait_for(applied, timeout=120, what="the test sales in MySQL")
    wait_for(
        lambda: mongo["raw_events"].count_documents({"event.store_id": RETURN_STORE}) == 1,
        timeout=60,
        what="the raw events in MongoDB",
    )
    # Then 3 of the 8 come back, five days later, through the pipeline.
    sold = return_sales[0]
    returned = return_event(
        sold.sale_id,
        [(1, X, 3, "42000")],
        occurred_at=mid_month(add_months(origin, -11)).replace("-15T", "-20T"),
        store_id=RETURN_STORE,
    )
    publish([(sold.sale_id.encode(), json.dumps(returned).encode())])
    wait_for(
        lambda: mongo["raw_events"].count_documents({"event.store_id": RETURN_STORE}) == 2,
        timeout=60,
        what="the return in MongoDB",
    )

    def returned_in_mysql() -> bool:
        with mysql.connect() as conn:
            query = "SELECT SUM(quantity_returned) FROM sale_returns WHERE sale_id = :s"
            return conn.scalar(text(query), {"s": sold.sale_id}) == 3

    wait_for(returned_in_mysql, timeout=60, what="the return in MySQL")
    api.close()
    yield


@pytest.fixture
def manager(app_url: str, users: dict[str, str]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=app_url, timeout=30, follow_redirects=False) as client:
        log_in(client, "manager", users["manager"])
        yield client


def periods(api: httpx.Client, **params: str) -> list[tuple[str, str, int, int, int]]:
    response = api.get("/api/v1/reports/sales", params={"store": REPORT_STORE, **params})
    assert response.status_code == 200, response.text
    return [
        (p["period"], p["revenue"], p["units"], p["sales"], p["lines"])
        for p in response.json()["periods"]
    ]


@pytest.mark.usefixtures("answers_data")
def test_sales_by_year_month_and_day_are_exact(api: httpx.Client) -> None:
    assert periods(api, granularity="year") == [
        ("2024", "104000.00", 3, 1, 2),
        ("2025", "365000.00", 16, 6, 8),
    ]
    assert periods(api, granularity="month") == [
        ("2024-06", "104000.00", 3, 1, 2),
        ("2025-01", "161000.00", 7, 3, 4),
        ("2025-03", "204000.00", 9, 3, 4),
    ]
    # Inclusive bounds; the sale at 00:15 local time on 1 January is on that day.
    assert periods(api, granularity="day", **{"from": "2025-01-01", "to": "2025-01-20"}) == [
        ("2025-01-01", "18000.00", 1, 1, 1),
        ("2025-01-20", "143000.00", 6, 2, 3),
    ]
    assert periods(api, granularity="day", **{"from": "2024-12-31", "to": "2024-12-31"}) == []
    # A range that cuts months: only its days count.
    assert periods(api, granularity="month", **{"from": "2025-01-15", "to": "2025-03-05"}) == [
        ("2025-01", "143000.00", 6, 2, 3),
        ("2025-03", "68000.00", 4, 1, 1),
    ]
    whole = api.get("/api/v1/reports/sales", params={"granularity": "year", "store": REPORT_STORE})
    assert whole.json()["totals"] == {
        "lines": 10,
        "sales": 7,
        "units": 19,
        "revenue": "469000.00",
        # These events carry no cost: the margin is unknown, all revenue outside it.
        "cost": "0.00",
        "costed_revenue": "0.00",
        "margin": None,
        "revenue_without_cost": "469000.00",
    }
    # All stores: at least ours (other tests sell in the same shop).
    everyone = api.get("/api/v1/reports/sales", params={"granularity": "year"}).json()
    assert everyone["store"] is None
    by_year = {p["period"]: Decimal(p["revenue"]) for p in everyone["periods"]}
    assert by_year["2025"] >= Decimal("365000")


@pytest.mark.usefixtures("answers_data")
def test_sales_as_csv_when_asked(api: httpx.Client) -> None:
    response = api.get(
        "/api/v1/reports/sales",
        params={"granularity": "month", "store": REPORT_STORE},
        headers={"Accept": "text/csv"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["period"], r["start"], r["revenue"], r["units"]) for r in rows] == [
        ("2024-06", "2024-06-01", "104000.00", "3"),
        ("2025-01", "2025-01-01", "161000.00", "7"),
        ("2025-03", "2025-03-01", "204000.00", "9"),
    ]
    # JSON stays the default, also for a browser-like Accept that lists */*.
    browserish = api.get(
        "/api/v1/reports/sales",
        params={"store": REPORT_STORE},
        headers={"Accept": "application/json, text/csv;q=0.5"},
    )
    assert browserish.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"granularity": "week"}, "Input should be 'year', 'month' or 'day'"),
        ({"from": "2025-02-01", "to": "2025-01-31"}, "from (2025-02-01) is after to (2025-01-31)"),
        ({"from": "2025-02-30"}, "day is out of range for month"),
        ({"to": "yesterday"}, "a day is written YYYY-MM-DD"),
    ],
)
def test_bad_sales_queries_are_refused_clearly(
    api: httpx.Client, params: dict[str, str], message: str
) -> None:
    response = api.get("/api/v1/reports/sales", params=params)
    assert response.status_code == 422
    assert message in response.text


def ranking(api: httpx.Client, **params: str) -> list[tuple[int, str, int, str]]:
    response = api.get("/api/v1/reports/top-products", params={"store": REPORT_STORE, **params})
    assert response.status_code == 200, response.text
    return [(p["rank"], p["sku"], p["units"], p["revenue"]) for p in response.json()["products"]]


@pytest.mark.usefixtures("answers_data")
def test_top_products_rank_and_break_ties(api: httpx.Client) -> None:
    # Revenue ties go to units (D before E), then to the SKU (G before F).
    assert ranking(api, year="2025", month="3") == [
        (1, D, 4, "68000.00"),
        (2, E, 1, "68000.00"),
        (3, G, 2, "34000.00"),
        (4, F, 2, "34000.00"),
    ]
    # Unit ties go to revenue (none here), then to the SKU.
    assert [sku for _, sku, _, _ in ranking(api, year="2025", month="3", by="units")] == [
        D,
        G,
        F,
        E,
    ]
    assert [sku for _, sku, _, _ in ranking(api, year="2025", by="units")] == [C, D, G, F, B, E, A]
    assert ranking(api, year="2025", month="1", limit="2") == [
        (1, C, 5, "75000.00"),
        (2, B, 1, "68000.00"),
    ]
    all_time = api.get("/api/v1/reports/top-products", params={"store": REPORT_STORE}).json()
    assert all_time["products"][0]["sku"] == B  # 136,000 over both years
    assert all_time["order"] == "revenue descending, then units descending, then SKU ascending"


@pytest.mark.usefixtures("answers_data")
def test_top_products_as_csv(api: httpx.Client) -> None:
    response = api.get(
        "/api/v1/reports/top-products",
        params={"store": REPORT_STORE, "year": "2025", "month": "3"},
        headers={"Accept": "text/csv"},
    )
    assert response.headers["content-type"].startswith("text/csv")
    # Named as the catalogue names them now (the events named them by SKU); no margin:
    # the events carry no cost.
    assert response.text.splitlines() == [
        "rank,sku,product,units,revenue,margin",
        f"1,{D},Eingyi Shirt White (M),4,68000.00,",
        f"2,{E},Taikpon Jacket White (M),1,68000.00,",
        f"3,{G},Gaung Baung Cotton White (23in),2,34000.00,",
        f"4,{F},Velvet Sandals Black (8),2,34000.00,",
    ]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"month": "3"}, "a month needs a year"),
        ({"year": "2025", "by": "price"}, "Input should be 'revenue' or 'units'"),
        ({"limit": "0"}, "greater than or equal to 1"),
        ({"year": "2025", "month": "13"}, "less than or equal to 12"),
    ],
)
def test_bad_top_product_queries_are_refused(
    api: httpx.Client, params: dict[str, str], message: str
) -> None:
    response = api.get("/api/v1/reports/top-products", params=params)
    assert response.status_code == 422
    assert message in response.text


@pytest.mark.usefixtures("answers_data")
def test_low_stock_as_csv_by_accept_header(api: httpx.Client) -> None:
    as_json = api.get("/api/v1/stock/low").json()
    as_csv = api.get("/api/v1/stock/low", headers={"Accept": "text/csv"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [r["sku"] for r in rows] == [r["sku"] for r in as_json]
    assert as_csv.text == api.get("/api/v1/stock/low.csv").text


@pytest.mark.usefixtures("answers_data")
def test_refill_plan_for_a_constructed_history(
    api: httpx.Client, settings: Settings, mysql: Any
) -> None:
    origin, months = plan_months(settings)
    response = api.get(
        "/api/v1/reports/refill-plan", params={"store": PLAN_STORE, "months": 3, "refresh": True}
    )
    assert response.status_code == 200, response.text
    plan = response.json()
    first = months[0]
    name = MONTH_NAMES[first[1] - 1]
    # Forecast: (15 + 10) / 2 x 1.5 = 18.75 -> 19. On hand is 0 (sold 35, never received):
    # order 19 + safety ceil(19 / 4) = 5 -> 24. Then 5 are left for the next months,
    # which sold nothing in either year.
    assert [
        (
            r["month"],
            r["sku"],
            r["forecast_units"],
            r["expected_start_stock"],
            r["safety_stock"],
            r["suggested_order"],
        )
        for r in plan["rows"]
    ] == [
        (date(*first, 1).isoformat(), X, 19, 0, 5, 24),
        (date(*months[1], 1).isoformat(), X, 0, 5, 0, 0),
        (date(*months[2], 1).isoformat(), X, 0, 5, 0, 0),
    ]
    assert plan["rows"][0]["reason"] == (
        f"{name} last year sold 15, the year before 10; shop trend +50%"
    )
    assert plan["history_from"] == date(*add_months(origin, -24), 1).isoformat()
    # Backtest: the months of the last year (none has two years behind it, so no trend
    # yet: the method is the baseline): errors |4-6| and |10-15| over 12 months, 21 sold.
    assert plan["backtest"] == {
        "months": 12,
        "points": 12,
        "actual_units": 21,
        "mae": "0.58",
        "wape": "0.3333",
        "baseline_mae": "0.58",
        "baseline_wape": "0.3333",
    }
    # Stored for Superset and the page: three rows, replaced (not added) on a recompute.
    api.get("/api/v1/reports/refill-plan", params={"store": PLAN_STORE, "refresh": True})
    with mysql.connect() as conn:
        stored = conn.execute(
            text(
                "SELECT plan_month, forecast_units, suggested_order FROM refill_plan"
                " WHERE store_id = :s ORDER BY plan_month"
            ),
            {"s": PLAN_STORE},
        ).all()
        run = conn.execute(
            text("SELECT mae, baseline_wape FROM refill_plan_runs WHERE store_id = :s"),
            {"s": PLAN_STORE},
        ).one()
    assert [(r.forecast_units, r.suggested_order) for r in stored] == [(19, 24), (0, 0), (0, 0)]
    assert (run.mae, run.baseline_wape) == (Decimal("0.58"), Decimal("0.3333"))
    # A stored, fresh plan is served as it is.
    again = api.get("/api/v1/reports/refill-plan", params={"store": PLAN_STORE}).json()
    assert (
        again["computed_at"]
        == api.get("/api/v1/reports/refill-plan", params={"store": PLAN_STORE}).json()[
            "computed_at"
        ]
    )
    assert again["rows"] == plan["rows"]


@pytest.mark.usefixtures("answers_data")
def test_the_plans_history_is_what_the_raw_events_say(settings: Settings, mongo: Any) -> None:
    """The plan reads product_monthly_sales; folding the raw events gives the same units."""

    async def from_mysql(store: str) -> dict[tuple[str, tuple[int, int]], int]:
        engine = make_async_engine(settings)
        try:
            async with engine.connect() as conn:
                return await load_history(conn, store_id=store, since=(2000, 1), until=(2100, 1))
        finally:
            await engine.dispose()

    for store in (PLAN_STORE, RETURN_STORE):
        raw = [doc["event"] for doc in mongo["raw_events"].find({"event.store_id": store})]
        history = asyncio.run(from_mysql(store))
        assert history == fold(raw)
        assert history  # four months of PLAN_STORE, one (net 5) of RETURN_STORE
    assert sum(asyncio.run(from_mysql(RETURN_STORE)).values()) == 8 - 3


@pytest.mark.usefixtures("answers_data")
def test_returns_come_off_the_month_they_happen_in(api: httpx.Client, settings: Settings) -> None:
    _, months = plan_months(settings)
    plan = api.get(
        "/api/v1/reports/refill-plan",
        params={"store": RETURN_STORE, "months": 1, "refresh": True},
    ).json()
    # 8 sold, 3 returned a year before the plan month; one year of history: no trend.
    (row,) = plan["rows"]
    assert (row["month"], row["forecast_units"]) == (date(*months[0], 1).isoformat(), 5)
    assert row["reason"].endswith("last year sold 5; no trend yet")
    assert plan["backtest"] is None  # a year of history cannot be backtested


@pytest.mark.usefixtures("answers_data")
def test_refill_plan_csv_and_bad_requests(api: httpx.Client) -> None:
    response = api.get(
        "/api/v1/reports/refill-plan",
        params={"store": PLAN_STORE, "months": 3},
        headers={"Accept": "text/csv"},
    )
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [(r["sku"], r["forecast_units"], r["suggested_order"]) for r in rows] == [
        (X, "19", "24"),
        (X, "0", "0"),
        (X, "0", "0"),
    ]
    assert api.get("/api/v1/reports/refill-plan", params={"months": 0}).status_code == 422
    assert api.get("/api/v1/reports/refill-plan", params={"months": 12}).status_code == 422
    missing = api.get("/api/v1/reports/refill-plan", params={"store": "no-such-store"})
    assert missing.status_code == 404 and "no store" in missing.text


@pytest.mark.usefixtures("answers_data")
def test_the_refill_plan_page_shows_the_backtest_and_a_chart(manager: httpx.Client) -> None:
    page = manager.get("/manager/refill-plan")
    assert page.status_code == 200
    assert 'id="backtest"' in page.text
    assert "<svg" in page.text and "Units by month" in page.text
    assert "<script" not in page.text.split("</head>")[1]  # the CSP allows no inline code
    assert 'style="' not in page.text


@pytest.mark.usefixtures("answers_data")
def test_the_top_products_page_draws_a_labelled_heat_map(
    manager: httpx.Client, publish: Publish, api: httpx.Client, settings: Settings
) -> None:
    # The page shows the shop's own store: give it a year no other test sells in.
    publish(
        [
            sale(
                settings.store_id, "2023-04-14T11:00:00+06:30", ("LGY-COT-GRY", 3, "18000")
            ).to_kafka(),
            sale(
                settings.store_id, "2023-10-20T11:00:00+06:30", ("TKP-BLK-L", 1, "68000")
            ).to_kafka(),
        ]
    )
    wait_for(
        lambda: (
            api.get(
                "/api/v1/reports/sales",
                params={
                    "granularity": "year",
                    "store": settings.store_id,
                    "from": "2023-01-01",
                    "to": "2023-12-31",
                },
            ).json()["totals"]["sales"]
            == 2
        ),
        timeout=60,
        what="the 2023 sales",
    )
    page = manager.get("/manager/top-products", params={"year": 2023})
    assert page.status_code == 200
    assert 'id="top-products-heat-map"' in page.text
    cells = re.findall(r'<text class="v (h\d)"[^>]*>([^<]+)</text>', page.text)
    assert len(cells) == 2 * 12  # two products x twelve months
    labelled = {label for _, label in cells if label != "-"}
    assert labelled == {"54K Ks", "68K Ks"}
    assert ("h5", "68K Ks") in cells  # the busiest cell is the darkest
    assert 'data-month="4" data-sku="LGY-COT-GRY"' in page.text
    assert "54,000 Ks" in page.text  # the table, in full
    assert 'href="/manager/top-products"' in page.text  # in the nav
