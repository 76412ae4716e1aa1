"""Browser fixtures: a real headless Chromium (Debian's `chromium`, found on PATH; no
Playwright browser download) driving the app on the real stack (the session's test
shop, app and stream job of tests/conftest.py). Reuse them from any browser test:
`browser`, `signed_in` (a page for a fresh user of a role), `cashier_page` (once per
screen size); the helpers (`SIZES`, `SignedIn`, `screenshot`) are in
tests/browser/support.py.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from pos_app.auth.cli import create_user_sync
from pos_app.settings import Settings
from pos_app.till.service import ensure_shift_open_sync
from tests.browser.support import SCREENS, SIZES, SignedIn
from tests.stack_support import log_in


# Package scope, and after `settings`: Playwright's sync API keeps an event loop running
# in this thread while the browser is open, and code under test that calls asyncio.run
# (making the test shop, Kafka topics) must not run inside it.
@pytest.fixture(scope="package")
def browser(settings: Settings) -> Iterator[Browser]:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("chromium is not on PATH: run `posctl stack install` (it installs it)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="package")
def open_shift(settings: Settings) -> None:
    """A shift open at the app's register: the counter takes payment only during one."""
    ensure_shift_open_sync(settings, cashier="tests")


@pytest.fixture
def signed_in(
    browser: Browser, app_url: str, settings: Settings, open_shift: None
) -> Iterator[SignedIn]:
    """signed_in(role="cashier", size="desktop", locale=None) -> a page on the counter,
    signed in as a new user of that role (each test has its own cashier, so its own cart),
    working in `locale` ("en", "my"; None: the shop's language)."""
    contexts = []

    def make(
        role: str = "cashier",
        size: str = "desktop",
        locale: str | None = None,
        stores: list[str] | None = None,  # None: the shop's store
    ) -> Page:
        username = f"{role}-{uuid.uuid4().hex[:8]}"
        password = f"pw-{uuid.uuid4().hex}"
        create_user_sync(
            settings,
            username=username,
            password=password,
            role=role,
            locale=locale,
            stores=stores,
        )
        with httpx.Client(base_url=app_url, timeout=15) as client:
            log_in(client, username, password)  # the login form, as a browser posts it
            cookies = [
                {"name": c.name, "value": c.value or "", "url": app_url} for c in client.cookies.jar
            ]
        width, height = SCREENS[size]
        context = browser.new_context(
            base_url=app_url,
            viewport={"width": width, "height": height},
            locale="my-MM" if locale == "my" else "en-GB",
        )
        contexts.append(context)
        context.add_cookies(cookies)  # type: ignore[arg-type]
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on("dialog", lambda dialog: dialog.accept())  # "Void this cart?"
        page.goto("/")
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(params=list(SIZES))
def cashier_page(request: pytest.FixtureRequest, signed_in: SignedIn) -> Page:
    """The counter for a new cashier, once per screen size (the test runs twice)."""
    return signed_in("cashier", request.param)
