"""The demo shop's generated history: deterministic, seasonal, and restocked."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from pos_app.catalog import demo_history
from pos_app.catalog.seed import parse_catalog
from pos_app.settings import REPO_ROOT

NOW = datetime(2026, 5, 20, 15, 0, tzinfo=ZoneInfo("Asia/Yangon"))


@pytest.fixture(scope="module")
def history() -> demo_history.History:
    catalog = parse_catalog(REPO_ROOT / "data" / "demo_catalog.csv")
    return demo_history.build(catalog, store_id="yangon-1", today=NOW)


def test_the_same_day_gives_the_same_events(history: demo_history.History) -> None:
    catalog = parse_catalog(REPO_ROOT / "data" / "demo_catalog.csv")
    again = demo_history.build(catalog, store_id="yangon-1", today=NOW)
    assert [s.model_dump_json() for s in again.sales] == [
        s.model_dump_json() for s in history.sales
    ]
    assert again.receipts == history.receipts
    # A later run only adds: every earlier event keeps its id.
    later = demo_history.build(catalog, store_id="yangon-1", today=NOW.replace(day=25))
    assert {s.event_id for s in history.sales} <= {s.event_id for s in later.sales}
    assert len({s.event_id for s in history.sales}) == len(history.sales)


def test_two_full_years_up_to_now(history: demo_history.History) -> None:
    first, last = history.sales[0].occurred_at, history.sales[-1].occurred_at
    assert (first.year, first.month) == (2024, 1)
    assert last <= NOW and last.date() == NOW.date()
    assert all(s.occurred_at.utcoffset().total_seconds() == 6.5 * 3600 for s in history.sales)  # type: ignore[union-attr]


def test_myanmar_seasons_and_busy_weekends(history: demo_history.History) -> None:
    by_month = Counter((s.occurred_at.year, s.occurred_at.month) for s in history.sales)
    for year in (2024, 2025):
        assert by_month[(year, 4)] > by_month[(year, 3)]  # Thingyan
        assert by_month[(year, 10)] > by_month[(year, 9)]  # Thadingyut
        assert by_month[(year, 12)] > by_month[(year, 7)]  # wedding season vs monsoon
    thingyan = sum(1 for s in history.sales if s.occurred_at.date().isoformat()[5:] == "04-13")
    daily = len(history.sales) / (NOW.date() - history.sales[0].occurred_at.date()).days
    assert thingyan > 2 * daily * 3  # three years of 13 April, each over twice a usual day
    weekday = Counter(s.occurred_at.weekday() for s in history.sales)
    assert weekday[5] > 1.3 * weekday[1]  # Saturday vs Tuesday


def test_receipts_keep_stock_from_going_negative(history: demo_history.History) -> None:
    catalog = {row.sku: row for row in parse_catalog(REPO_ROOT / "data" / "demo_catalog.csv")}
    events = sorted(
        [(datetime.fromisoformat(str(r["occurred_at"])), 0, r) for r in history.receipts]
        + [(s.occurred_at, 1, s) for s in history.sales],
        key=lambda item: (item[0], item[1]),
    )
    on_hand = {sku: row.opening_stock for sku, row in catalog.items()}
    for _, kind, event in events:
        if kind == 0:
            assert isinstance(event, dict)
            assert event["event_type"] == "stock.received"
            for line in event["lines"]:
                assert line["quantity"] % demo_history.PACK == 0
                on_hand[line["sku"]] += line["quantity"]
        else:
            for line in event.lines:  # type: ignore[union-attr]
                on_hand[line.sku] -= line.quantity
                assert on_hand[line.sku] >= 0, (event.occurred_at, line.sku)  # type: ignore[union-attr]


def test_records_put_each_receipt_before_the_months_sales(
    history: demo_history.History,
) -> None:
    records = demo_history.records(history, sales_topic="s", inventory_topic="i")
    assert len(records) == len(history.sales) + len(history.receipts)
    assert records[0][0] == "i"
    assert {topic for topic, _, _ in records} == {"s", "i"}
