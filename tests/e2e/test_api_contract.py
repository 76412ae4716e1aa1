"""The API's contract, case by case (tests/e2e/test_fuzz.py fuzzes all of it): problem
details for every error, timestamps with their offset, strict input, the bearer scheme."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest

pytestmark = pytest.mark.stack

PROBLEM = "application/problem+json"


def test_an_error_is_problem_details_with_a_sentence(api: httpx.Client) -> None:
    missing = api.get("/api/v1/sales/NOSUCHSALE")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM
    assert missing.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "no sale NOSUCHSALE",
        "code": "not_found",
    }


def test_input_that_breaks_the_schema_names_each_field(api: httpx.Client) -> None:
    refused = api.post("/api/v1/sales", json={"lines": [{"sku": "", "quantity": "2"}]})
    assert refused.status_code == 422
    assert refused.headers["content-type"] == PROBLEM
    body = refused.json()
    assert {tuple(e["loc"]) for e in body["errors"]} == {
        ("body", "lines", 0, "sku"),
        ("body", "lines", 0, "quantity"),  # "2" is a string, not a number
    }
    assert "body.lines.0.quantity: Input should be a valid integer" in body["detail"]


def test_lax_readings_of_input_are_refused(api: httpx.Client) -> None:
    assert api.get("/api/v1/reports/sales", params={"to": "0"}).status_code == 422
    assert api.get("/api/v1/reports/sales", params={"to": "2026-12-01"}).status_code == 200
    refused = api.patch("/api/v1/products/TKP-BLK-M", json={"reorder_point": False})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["loc"] == ["body", "reorder_point"]


def test_timestamps_carry_their_offset(api: httpx.Client) -> None:
    entries = api.get("/api/v1/audit", params={"limit": 5}).json()
    assert entries
    for entry in entries:
        assert datetime.fromisoformat(entry["at"]).utcoffset() is not None, entry["at"]
    as_of = api.get("/api/v1/reports/today").json()["as_of"]
    assert as_of.endswith("+06:30"), as_of  # the shop's time of day, Yangon's offset


def test_a_405_names_every_method_of_the_path(api: httpx.Client) -> None:
    refused = api.put("/api/v1/products", json={})
    assert refused.status_code == 405
    assert refused.headers["allow"] == "GET, POST"
    assert refused.headers["content-type"] == PROBLEM


def test_the_document_declares_the_bearer_key_and_the_problems(app_url: str) -> None:
    schema = httpx.get(f"{app_url}/openapi.json").json()
    assert schema["components"]["securitySchemes"]["apiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key from an admin: `Authorization: Bearer pos_…`",
    }
    sale = schema["paths"]["/api/v1/sales"]["post"]
    assert sale["security"] == [{"apiKey": []}]
    assert {"401", "403", "422"} <= set(sale["responses"])
    assert PROBLEM in sale["responses"]["422"]["content"]
    assert "HTTPValidationError" not in schema["components"]["schemas"]


def test_a_key_cannot_revoke_itself(api: httpx.Client) -> None:
    created = api.post("/api/v1/api-keys", json={"name": "self", "scopes": ["apikeys:admin"]})
    key, prefix = created.json()["key"], created.json()["api_key"]["prefix"]
    own = api.delete(f"/api/v1/api-keys/{prefix}", headers={"Authorization": f"Bearer {key}"})
    assert own.status_code == 409 and "cannot revoke itself" in own.json()["detail"]
    assert api.delete(f"/api/v1/api-keys/{prefix}").status_code == 204  # another key may
