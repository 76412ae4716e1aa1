"""Running it for real: /metrics read by Prometheus's own text parser, the stream job's
exposition, and a sale's request id from the app's log line to the stream job's."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, text

from pos_app.auth.cli import create_api_key_sync
from pos_app.contract import STREAM_QUERY_NAME
from pos_app.settings import Settings
from tests.stack_support import ChildProcess, wait_for

pytestmark = pytest.mark.stack


def scrape(client: httpx.Client, url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, by name and labels."""
    answer = client.get(url)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def json_lines(path: Path) -> list[dict[str, Any]]:
    lines = []
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def test_metrics_need_events_read(app_url: str, settings: Settings) -> None:
    assert httpx.get(f"{app_url}/metrics").status_code == 401
    key = create_api_key_sync(settings, name="stock only", scopes=["stock:read"])
    refused = httpx.get(f"{app_url}/metrics", headers={"Authorization": f"Bearer {key}"})
    assert refused.status_code == 403


def test_a_sale_is_counted_and_followed_by_its_request_id(
    api: httpx.Client,
    app_url: str,
    settings: Settings,
    stream_job: ChildProcess,
    logs_dir: Path,
    mysql: Engine,
) -> None:
    before = scrape(api, "/metrics")
    request_id = f"till-{uuid.uuid4().hex[:12]}"
    sale = api.post(
        "/api/v1/sales",
        json={"lines": [{"sku": "LGY-COT-BLU", "quantity": 1}]},
        headers={"X-Request-ID": request_id},
    )
    assert sale.status_code == 201, sale.text
    assert sale.headers["X-Request-ID"] == request_id
    sale_id = sale.json()["sale_id"]

    # The outbox row (the event on its way to Kafka) carries the id.
    with mysql.connect() as conn:
        payload = conn.scalar(
            text("SELECT payload FROM outbox WHERE document_id = :id"), {"id": sale_id}
        )
    assert json.loads(payload)["request_id"] == request_id

    # The app's log line for the request, one JSON object.
    (line,) = [e for e in json_lines(logs_dir / "app.log") if e.get("request_id") == request_id]
    assert (line["method"], line["route"], line["status"]) == ("POST", "/api/v1/sales", 201)
    assert line["logger"] == "pos.requests" and line["duration_ms"] > 0

    # The stream job's log line for the batch that applied it.
    def batch_line() -> dict[str, Any] | None:
        for entry in json_lines(stream_job.log_path):
            if request_id in entry.get("request_ids", []):
                return entry
        return None

    batch = wait_for(batch_line, timeout=120, what="the stream job's batch line for the sale")
    assert batch["logger"] == "pos.stream" and batch["applied"] >= 1
    with mysql.connect() as conn:
        applied_in = conn.scalar(
            text("SELECT batch_id FROM processed_events WHERE sale_id = :id"), {"id": sale_id}
        )
    assert batch["batch_id"] == applied_in

    after = scrape(api, "/metrics")
    sales_route = (("method", "POST"), ("route", "/api/v1/sales"), ("status", "201"))
    assert after[("pos_http_requests_total", sales_route)] >= 1 + before.get(
        ("pos_http_requests_total", sales_route), 0
    )
    latency = (("method", "POST"), ("route", "/api/v1/sales"))
    assert after[("pos_http_request_duration_seconds_count", latency)] >= 1
    assert after[("pos_sales_total", ())] >= before.get(("pos_sales_total", ()), 0) + 1
    assert after[("pos_stream_events_applied_total", ())] >= 1
    assert ("pos_stream_events_rejected_total", ()) in after
    assert ("pos_outbox_pending", ()) in after
    assert 0 <= after[("pos_stream_lag_seconds", ())] < 600
    assert after[("pos_stream_last_batch_age_seconds", ())] >= 0

    # The stream job's own exposition: how long its micro-batches take.
    with httpx.Client() as client:
        stream = scrape(client, f"http://127.0.0.1:{settings.stream_metrics_port}/metrics")
    query = (("query", STREAM_QUERY_NAME),)
    assert stream[("pos_stream_batch_duration_seconds_count", query)] >= 1
    assert stream[("pos_stream_batch_events_total", (("outcome", "applied"), *query))] >= 1


def test_an_unusable_request_id_is_replaced(api: httpx.Client) -> None:
    answer = api.get("/health/live", headers={"X-Request-ID": "two words"})
    assert answer.headers["X-Request-ID"] != "two words"
    assert len(answer.headers["X-Request-ID"]) == 32  # one of ours
