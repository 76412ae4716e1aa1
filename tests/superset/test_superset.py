"""Superset on the real stack: `posctl superset up` and `provision` (twice: nothing is
duplicated), then the charts' own saved queries, read through Superset's chart data API,
give exactly the figures the app's API gives for sales that went through the pipeline."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pymysql
import pytest
from sqlalchemy import Engine, delete, insert

from pos_app.db.tables import refill_plan
from pos_app.settings import REPO_ROOT, Settings
from stack.superset import bundle, server
from stack.superset.client import SupersetClient
from tests.stack_support import ChildProcess, wait_for

pytestmark = pytest.mark.stack
KINDS = ("database", "dataset", "chart", "dashboard")


def posctl(*args: str, timeout: float) -> str:
    """Run posctl as a user would, with the environment's settings (the shop's database)."""
    done = subprocess.run(
        [sys.executable, "-m", "posctl", *args],
        cwd=REPO_ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = done.stdout + done.stderr
    if done.returncode != 0:
        pytest.fail(f"posctl {' '.join(args)} failed (exit {done.returncode}):\n{output[-4000:]}")
    return output


@pytest.fixture(scope="module")
def superset(settings: Settings) -> Iterator[SupersetClient]:
    # The first run installs Superset (a few minutes); later runs start it in seconds.
    posctl("superset", "up", timeout=1200)
    with SupersetClient.for_settings(Settings()) as client:
        yield client


def provision(settings: Settings) -> str:
    return posctl("superset", "provision", "--database", settings.mysql_database, timeout=300)


def inventory(client: SupersetClient) -> dict[str, list[tuple[int, str]]]:
    """Every object Superset holds, by kind: (id, name)."""
    names = {
        "database": "database_name",
        "dataset": "table_name",
        "chart": "slice_name",
        "dashboard": "dashboard_title",
    }
    return {
        kind: sorted((int(o["id"]), str(o[names[kind]])) for o in client.listing(kind))
        for kind in KINDS
    }


@pytest.fixture(scope="module")
def dashboard(superset: SupersetClient, settings: Settings) -> Iterator[dict[str, int]]:
    """Provisioned twice; chart name -> id. Removed afterwards, so the shop's Superset
    keeps only its own dashboard."""
    provision(settings)
    first = inventory(superset)
    provision(settings)
    second = inventory(superset)
    assert second == first, "provisioning again changed the set of objects"
    slug = bundle.dashboard_slug(Settings(), settings.mysql_database)
    charts = superset.dashboard_charts(slug)
    yield charts
    remove_test_objects(superset, settings.mysql_database, slug, charts)


def remove_test_objects(
    client: SupersetClient, database: str, slug: str, charts: dict[str, int]
) -> None:
    board = client.get(f"/api/v1/dashboard/{slug}")["result"]
    datasets = [
        d["id"] for d in client.listing("dataset") if d["table_name"].endswith(f" ({database})")
    ]
    (db,) = [
        d["id"] for d in client.listing("database") if d["database_name"].endswith(f"({database})")
    ]
    for path in (
        f"/api/v1/dashboard/{board['id']}",
        f"/api/v1/chart/?q=!({','.join(map(str, charts.values()))})",
        f"/api/v1/dataset/?q=!({','.join(map(str, datasets))})",
        f"/api/v1/database/{db}",
    ):
        response = client.http.delete(path)
        assert response.status_code == 200, f"DELETE {path}: {response.text[:500]}"


def test_provisioning_twice_keeps_one_of_everything(
    superset: SupersetClient, dashboard: dict[str, int], settings: Settings
) -> None:
    objects = inventory(superset)
    # Charts share names across dashboards (the shop's and this test's); the rest may not.
    for kind in ("database", "dataset", "dashboard"):
        names = [name for _, name in objects[kind]]
        assert len(names) == len(set(names)), f"duplicate {kind}s: {names}"
    assert sorted(dashboard) == sorted(c.name for c in bundle.CHARTS)
    assert len(set(dashboard.values())) == len(bundle.CHARTS)
    slug = bundle.dashboard_slug(Settings(), settings.mysql_database)
    board = superset.get(f"/api/v1/dashboard/{slug}")["result"]
    metadata = json.loads(board["json_metadata"])
    assert metadata["refresh_frequency"] == bundle.REFRESH_SECONDS > 0
    filters = {f["name"]: f for f in metadata["native_filter_configuration"]}
    assert {"Year", "Month", "Day", "Store"} <= set(filters)
    # Native filters point at the imported dataset, and Day only at Total Sales.
    total_sales_id = dashboard["Total Sales"]
    assert total_sales_id not in filters["Day"]["scope"]["excluded"]
    assert set(dashboard.values()) - {total_sales_id} == set(filters["Day"]["scope"]["excluded"])
    assert all(t.get("datasetId") for f in filters.values() for t in f["targets"])
    database = next(
        d for d in superset.listing("database") if settings.mysql_database in d["database_name"]
    )
    assert database["backend"] == "mysql"


def chart_rows(
    client: SupersetClient, chart_id: int, store_id: str, **where: int
) -> list[dict[str, str]]:
    """The chart's saved query for one store (and year, month, day...), as the dashboard's
    native filters run it, read as CSV: Superset's JSON turns DECIMAL into floats, its CSV
    keeps the digits."""
    saved = json.loads(client.get(f"/api/v1/chart/{chart_id}")["result"]["query_context"])
    filters = [
        {"col": col, "op": "==", "val": val} for col, val in {"store_id": store_id, **where}.items()
    ]
    for query in saved["queries"]:
        query["filters"] = [*query["filters"], *filters]
    saved.update(result_format="csv", result_type="full", force=True)
    response = client.http.post("/api/v1/chart/data", json=saved)
    assert response.status_code == 200, response.text[:2000]
    return list(csv.DictReader(io.StringIO(response.text)))


def by_key(rows: list[dict[str, str]], key: str, value: str) -> dict[str, Decimal]:
    return {row[key]: Decimal(row[value]) for row in rows}


def app_figures(api: httpx.Client) -> dict[str, Any]:
    summary = api.get("/api/v1/reports/summary", params={"top": 100})
    stock = api.get("/api/v1/stock")
    assert summary.status_code == 200 and stock.status_code == 200
    s = summary.json()
    return {
        "total": Decimal(s["totals"]["revenue"]),
        "revenue": {p["product"]: Decimal(p["revenue"]) for p in s["top_by_revenue"]},
        "units": {p["product"]: Decimal(p["units"]) for p in s["top_by_units"]},
        "months": {(str(m["year"]), str(m["month"])): Decimal(m["revenue"]) for m in s["by_month"]},
        "stock": {r["name"]: Decimal(r["on_hand"]) for r in stock.json()},
        "low": {r["sku"]: Decimal(r["on_hand"]) for r in stock.json() if r["status"] != "ok"},
        "sales": s["totals"]["sales"],
    }


def superset_figures(
    client: SupersetClient, charts: dict[str, int], store_id: str
) -> dict[str, Any]:
    def rows(name: str) -> list[dict[str, str]]:
        return chart_rows(client, charts[name], store_id)

    (total,) = rows("Total Sales")
    return {
        "total": Decimal(total["Total sales"] or 0),
        "revenue": by_key(rows("Total Sales by Products"), "product", "Revenue"),
        "units": by_key(rows("Total Numbers of Each Product Sold"), "product", "Units sold"),
        "months": {
            (r["year"], r["month"]): Decimal(r["Revenue"])
            for r in rows("Monthly Sales (beside last year)")
        },
        "stock": by_key(rows("Numbers of Product in Stock"), "product", "On hand"),
        "low": by_key(rows("Low Stock (on hand at or under the reorder point)"), "sku", "on_hand"),
    }


SALES = [
    [{"sku": "LGY-YAW-MRN", "quantity": 2}, {"sku": "TKP-BLK-M", "quantity": 1}],
    [{"sku": "LGY-YAW-MRN", "quantity": 1}],
    [{"sku": "TKP-BLK-M", "quantity": 3}, {"sku": "EGY-WHT-L", "quantity": 1}],
]


def test_charts_show_what_the_app_shows(
    superset: SupersetClient,
    dashboard: dict[str, int],
    api: httpx.Client,
    stream_job: ChildProcess,
    settings: Settings,
) -> None:
    before = app_figures(api)["sales"]
    for lines in SALES:
        sale = api.post("/api/v1/sales", json={"lines": lines})
        assert sale.status_code == 201, sale.text
    wait_for(
        lambda: app_figures(api)["sales"] >= before + len(SALES),
        timeout=30,
        what="the sales in the app's reports",
    )
    sold = {line["sku"] for lines in SALES for line in lines}

    def agree() -> dict[str, Any] | None:
        # Read the app on both sides of Superset, so a late event cannot make a false diff.
        app = app_figures(api)
        seen = superset_figures(superset, dashboard, settings.store_id)
        app_again = app_figures(api)
        return (
            {"app": app, "superset": seen}
            if app == app_again and seen == {k: v for k, v in app.items() if k != "sales"}
            else None
        )

    both = wait_for(agree, timeout=60, what="Superset's charts to equal the app's figures")
    seen = both["superset"]
    assert seen["total"] > 0 and len(seen["revenue"]) >= 3
    assert sum(seen["revenue"].values()) == seen["total"]
    assert sum(seen["months"].values()) == seen["total"]
    stock = {r["sku"]: r for r in api.get("/api/v1/stock").json()}
    assert all(stock[sku]["total_sold"] > 0 for sku in sold)

    # Total Sales under the Year, Month and Day filters: the app's dashboard for that period.
    today = settings.today()
    for period in (
        {"year": today.year},
        {"year": today.year, "month": today.month},
        {"year": today.year, "month": today.month, "day": today.day},
    ):
        (row,) = chart_rows(superset, dashboard["Total Sales"], settings.store_id, **period)
        app = api.get("/api/v1/reports/dashboard", params=period).json()["period"]["revenue"]
        assert Decimal(row["Total sales"]) == Decimal(app) > 0, period


def test_a_renamed_product_is_charted_under_its_new_name(
    superset: SupersetClient,
    dashboard: dict[str, int],
    api: httpx.Client,
    stream_job: ChildProcess,
    settings: Settings,
) -> None:
    """The stream job keeps in product_monthly_sales the name the events carried; the
    charts show the catalogue's name, as the app's reports do."""
    sku = f"SS-REN-{uuid.uuid4().hex[:6]}".upper()
    old, new = f"Chart Vest {sku} (old name)", f"Chart Vest {sku} (new name)"
    body = {"sku": sku, "name": old, "category": "Vest", "unit_price": "1000"}
    assert api.post("/api/v1/products", json=body).status_code == 201
    sale = api.post("/api/v1/sales", json={"lines": [{"sku": sku, "quantity": 2}]})
    assert sale.status_code == 201, sale.text

    def revenue() -> dict[str, Decimal]:
        rows = chart_rows(superset, dashboard["Total Sales by Products"], settings.store_id)
        return by_key(rows, "product", "Revenue")

    wait_for(lambda: old in revenue(), timeout=60, what="the sale in Superset's product chart")
    assert api.patch(f"/api/v1/products/{sku}", json={"name": new}).status_code == 200
    charted = revenue()
    assert charted.get(new) == Decimal("2000") and old not in charted


def test_the_payments_chart_equals_the_payment_report(
    superset: SupersetClient,
    dashboard: dict[str, int],
    api: httpx.Client,
    stream_job: ChildProcess,
    settings: Settings,
) -> None:
    sale = api.post(
        "/api/v1/sales",
        json={
            "lines": [{"sku": "EGY-WHT-L", "quantity": 1}],
            "payment": {"method": "kbzpay", "reference": "SS-1"},
        },
    )
    assert sale.status_code == 201, sale.text
    chart = dashboard["Payments by Method and Month (net of refunds)"]

    def agree() -> dict[tuple[str, str], Decimal] | None:
        report = api.get(
            "/api/v1/reports/payments", params={"granularity": "month", "store": settings.store_id}
        ).json()
        app = {(r["period"], r["method"]): Decimal(r["amount"]) for r in report["rows"]}
        seen = {
            (r["period"], r["method"]): Decimal(r["Net by method"])
            for r in chart_rows(superset, chart, settings.store_id)
        }
        return seen if seen == app and ("kbzpay" in {m for _, m in seen}) else None

    seen = wait_for(agree, timeout=60, what="Superset's payments chart to equal the report")
    assert seen


@pytest.fixture
def planned(mysql: Engine) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Two refill-plan rows of a store of their own (the planner fills this table for real)."""
    store = f"ss-{uuid.uuid4().hex[:8]}"
    rows = [
        {
            "store_id": store,
            "plan_month": date(2031, 1, 1),
            "sku": "LGY-YAW-MRN",
            "product": "Yaw longyi, maroon",
            "forecast_units": 12,
            "expected_start_stock": 3,
            "safety_stock": 4,
            "suggested_order": 13,
            "reason": "forecast 12 + safety 4 - stock 3",
        },
        {
            "store_id": store,
            "plan_month": date(2031, 2, 1),
            "sku": "TKP-BLK-M",
            "product": "Taikpon, black, M",
            "forecast_units": 5,
            "expected_start_stock": 9,
            "safety_stock": 2,
            "suggested_order": 0,
            "reason": "enough stock",
        },
    ]
    with mysql.begin() as conn:
        conn.execute(insert(refill_plan), [{**r, "computed_at": date(2030, 12, 1)} for r in rows])
    yield store, rows
    with mysql.begin() as conn:
        conn.execute(delete(refill_plan).where(refill_plan.c.store_id == store))


def test_the_refill_plan_chart_reads_the_plan(
    superset: SupersetClient, dashboard: dict[str, int], planned: tuple[str, list[dict[str, Any]]]
) -> None:
    store, rows = planned
    chart = dashboard["Refill Plan (what to order in which month)"]
    seen = chart_rows(superset, chart, store)
    assert [(r["plan_month"][:10], r["sku"], r["suggested_order"], r["reason"]) for r in seen] == [
        (str(r["plan_month"]), r["sku"], str(r["suggested_order"]), r["reason"]) for r in rows
    ]


def test_superset_listens_on_loopback_only(superset: SupersetClient) -> None:
    lines, healthy = server.status(Settings())
    assert healthy, lines
    log = server.process_files(Settings()).log_file.read_text(errors="replace")
    assert f"Listening at: http://127.0.0.1:{Settings().superset_port}" in log
    mode = server.Paths.of(Settings()).password_file.stat().st_mode & 0o777
    assert mode == 0o600


def test_superset_reads_as_a_user_who_cannot_write(
    superset: SupersetClient, dashboard: dict[str, int], settings: Settings
) -> None:
    (database,) = [
        d["id"]
        for d in superset.listing("database")
        if d["database_name"].endswith(f"({settings.mysql_database})")
    ]
    uri = superset.get(f"/api/v1/database/{database}/connection")["result"]["sqlalchemy_uri"]
    assert f"//{settings.mysql_report_user}:" in uri
    reader = pymysql.connect(
        host=settings.mysql_host,
        port=settings.mysql_port,
        user=settings.mysql_report_user,
        password=settings.mysql_report_password,
        database=settings.mysql_database,
    )
    with reader, reader.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM sales")
        with pytest.raises(pymysql.err.OperationalError, match="command denied"):
            cursor.execute("DELETE FROM sales WHERE 1 = 0")
