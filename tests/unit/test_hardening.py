"""What the app gives away: Secure cookies and HSTS (on in production whatever scheme
the app sees, since the TLS proxy's may not reach it; by the scheme otherwise; or as
POS_SECURE_COOKIES says), and no error text in the health view."""

from __future__ import annotations

import warnings

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from pos_app.main import create_app
from pos_app.settings import Settings

with warnings.catch_warnings():
    # Starlette 1.x asks for httpx2 behind its test client; the project pins httpx.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

STRONG = {
    "secret_key": "s" * 40,
    "mysql_password": "not-the-default",
    "mysql_report_password": "not-the-default-either",
}


def _client(settings: Settings, base_url: str = "http://testserver") -> TestClient:
    app = create_app(settings)
    app.state.settings = settings  # the lifespan (databases, relay) is not needed here
    return TestClient(app, base_url=base_url)


def _csrf_cookie(client: TestClient) -> str:
    page = client.get("/login")
    assert page.status_code == 200, page.text[:300]
    (cookie,) = [c for c in page.headers.get_list("set-cookie") if "pos_csrf=" in c]
    return cookie


@pytest.mark.parametrize(
    ("settings", "base_url", "secure"),
    [
        (Settings(environment="production", **STRONG), "http://testserver", True),
        (Settings(), "http://testserver", False),
        (Settings(), "https://testserver", True),
        (Settings(secure_cookies=True), "http://testserver", True),
        (Settings(environment="production", secure_cookies=False, **STRONG), "http://x", False),
    ],
    ids=["production", "local-http", "local-https", "forced-on", "production-forced-off"],
)
def test_cookies_are_secure_in_production_and_over_https(
    settings: Settings, base_url: str, secure: bool
) -> None:
    cookie = _csrf_cookie(_client(settings, base_url))
    assert ("; secure" in cookie.lower()) is secure
    # The __Host- prefix promises Secure: a browser refuses it without.
    assert cookie.startswith("__Host-pos_csrf=") is secure


def test_hsts_goes_out_over_https_only() -> None:
    plain = _client(Settings()).get("/login")
    assert "strict-transport-security" not in plain.headers
    over_tls = _client(Settings(), "https://testserver").get("/login")
    assert over_tls.headers["strict-transport-security"] == "max-age=31536000"


def test_a_failed_health_check_names_the_kind_of_failure_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The error's text may carry a host, a user or a path: the log has it, no answer."""
    import asyncio

    from pos_app.health import _check

    async def failing() -> None:
        raise ConnectionError("Access denied for user 'pos'@'10.0.0.5' (using password: YES)")

    with caplog.at_level("WARNING", logger="pos_app.health"):
        state = asyncio.run(_check(failing()))
    assert state == "down: ConnectionError"
    assert "10.0.0.5" in caplog.text
