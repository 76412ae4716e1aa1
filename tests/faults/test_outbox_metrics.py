"""/metrics while Kafka is down: the outbox backlog and its oldest age grow as the counter
keeps selling, and drain once Kafka is back."""

from __future__ import annotations

import time

import httpx
import pytest

from pos_app.settings import Settings
from stack import services
from tests.e2e.test_observability import scrape
from tests.faults.test_faults import kill_service
from tests.stack_support import wait_for

pytestmark = pytest.mark.stack

SALE = {"lines": [{"sku": "LGY-COT-GRN", "quantity": 1}]}


def test_the_outbox_backlog_shows_while_kafka_is_down(
    settings: Settings, api: httpx.Client
) -> None:
    def drained() -> bool:
        return scrape(api, "/metrics")[("pos_outbox_pending", ())] == 0

    wait_for(drained, timeout=60, what="an empty outbox before the drill")
    kill_service(settings, "kafka")
    try:
        for _ in range(5):
            assert api.post("/api/v1/sales", json=SALE).status_code == 201
        first = scrape(api, "/metrics")
        assert first[("pos_outbox_pending", ())] >= 5
        time.sleep(1.5)
        for _ in range(3):
            assert api.post("/api/v1/sales", json=SALE).status_code == 201
        second = scrape(api, "/metrics")
        assert second[("pos_outbox_pending", ())] >= first[("pos_outbox_pending", ())] + 3
        oldest = ("pos_outbox_oldest_pending_age_seconds", ())
        assert second[oldest] >= first[oldest] + 1.0  # the oldest keeps waiting
    finally:
        services.up(settings, ["kafka"])
    wait_for(drained, timeout=120, what="the outbox to drain after Kafka returned")
    assert ("pos_outbox_oldest_pending_age_seconds", ()) not in scrape(api, "/metrics")
