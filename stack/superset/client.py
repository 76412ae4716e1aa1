"""Superset's REST API, as far as provisioning and the tests need it: sign in, import the
bundle, list what is there, read a chart's data."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from pos_app.settings import Settings
from stack.superset import bundle, server


class ProvisionError(RuntimeError):
    """Superset refused the bundle or a request; the message carries its answer."""


class SupersetClient:
    """A signed-in admin session: a bearer token plus the CSRF token Superset wants on writes."""

    def __init__(self, url: str, username: str, password: str, *, timeout: float = 60) -> None:
        self.http = httpx.Client(base_url=url, timeout=timeout)
        try:
            login = self.http.post(
                "/api/v1/security/login",
                json={
                    "username": username,
                    "password": password,
                    "provider": "db",
                    "refresh": False,
                },
            )
        except httpx.TransportError as error:
            self.http.close()
            raise ProvisionError(
                f"superset: cannot reach {url} ({error}); start it with `posctl superset up`"
            ) from None
        self._check(login, "sign in")
        self.http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        csrf = self.http.get("/api/v1/security/csrf_token/")
        self._check(csrf, "get a CSRF token")
        # The token is bound to the session cookie the client now keeps.
        self.http.headers["X-CSRFToken"] = csrf.json()["result"]
        self.http.headers["Referer"] = url

    @classmethod
    def for_settings(cls, settings: Settings) -> SupersetClient:
        return cls(server.base_url(settings), server.ADMIN_USER, server.admin_password(settings))

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> SupersetClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def _check(response: httpx.Response, what: str) -> None:
        if response.status_code >= 400:
            raise ProvisionError(
                f"superset: {what} failed: HTTP {response.status_code} {response.text[:2000]}"
            )

    def get(self, path: str, **params: Any) -> Any:
        response = self.http.get(path, params=params or None)
        self._check(response, f"GET {path}")
        return response.json()

    def import_assets(self, zip_bytes: bytes, passwords: dict[str, str]) -> None:
        # The assets endpoint overwrites every object in the bundle; the dashboard endpoint
        # would overwrite only the dashboard and leave changed charts and datasets as they were.
        response = self.http.post(
            "/api/v1/assets/import/",
            files={"bundle": ("pos_sales.zip", zip_bytes, "application/zip")},
            data={"passwords": json.dumps(passwords), "overwrite": "true"},
        )
        self._check(response, "import the bundle")

    def listing(self, kind: str) -> list[dict[str, Any]]:
        """Every chart, dataset, dashboard or database (one page of up to 100 is plenty)."""
        return list(self.get(f"/api/v1/{kind}/", q="(page_size:100)")["result"])

    def dashboard_charts(self, slug: str) -> dict[str, int]:
        """Chart name -> id for the charts on a dashboard."""
        charts = self.get(f"/api/v1/dashboard/{slug}/charts")["result"]
        return {c["slice_name"]: int(c["id"]) for c in charts}

    def chart_data(self, chart_id: int) -> list[dict[str, Any]]:
        """The rows of a chart's saved query, fresh from the database."""
        body = self.get(f"/api/v1/chart/{chart_id}/data/", force="true")
        return list(body["result"][0]["data"])

    def chart_csv(self, chart_id: int) -> str:
        """The same rows as CSV: Superset's JSON turns DECIMAL into floats, its CSV does not."""
        response = self.http.get(
            f"/api/v1/chart/{chart_id}/data/", params={"format": "csv", "force": "true"}
        )
        self._check(response, f"CSV of chart {chart_id}")
        return response.text


@dataclass(frozen=True)
class Provisioned:
    dashboard_id: int
    url: str
    charts: dict[str, int]  # chart name -> id


def provision(settings: Settings, database: str | None = None) -> Provisioned:
    """Create or update the Sales dashboard for `database` (default: the shop's)."""
    database = database or settings.mysql_database
    zip_bytes = bundle.build(settings, database)
    with SupersetClient.for_settings(settings) as client:
        # Superset reads as the report user: it can show the tables, never change them.
        passwords = {bundle.database_file(): settings.mysql_report_password}
        client.import_assets(zip_bytes, passwords)
        slug = bundle.dashboard_slug(settings, database)
        dashboard = client.get(f"/api/v1/dashboard/{slug}")["result"]
        charts = client.dashboard_charts(slug)
    missing = {c.name for c in bundle.CHARTS} - set(charts)
    if missing:
        raise ProvisionError(f"superset: the dashboard lacks charts after import: {missing}")
    return Provisioned(
        dashboard_id=int(dashboard["id"]),
        url=f"{server.base_url(settings)}/superset/dashboard/{slug}/",
        charts=charts,
    )
