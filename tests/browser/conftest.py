"""Browser fixtures: a real headless Chromium (Debian's `chromium`, found on PATH; no
Playwright browser download) driving the app on the real stack. Reuse them from any
browser test: `browser`, `SIZES`, `signed_in` (a page for a fresh user of a role),
`cashier_page` (once per screen size), `screenshot`.

The test shop, app and stream job here are this package's own (package scope, made with
the shared helpers of tests/stack_fixtures.py): they stop when the browser tests end,
so nothing of ours still runs when tests/e2e makes its fresh shop.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import Engine

from pos_app.auth.cli import create_user_sync
from pos_app.db.engine import make_sync_engine
from pos_app.settings import REPO_ROOT, Settings
from pos_app.till.service import ensure_shift_open_sync
from tests.stack_fixtures import (
    ChildProcess,
    log_in,
    make_test_settings,
    running_app,
    running_stream_job,
)

# The two screens the counter must work on: a laptop and a tablet held upright.
SIZES = {"desktop": (1280, 800), "tablet": (768, 1024)}
SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"


@pytest.fixture(scope="package")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_test_settings(tmp_path_factory)


@pytest.fixture(scope="package")
def logs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("browser-logs")


@pytest.fixture(scope="package")
def app_url(settings: Settings, logs_dir: Path) -> Iterator[str]:
    with running_app(settings, logs_dir) as url:
        yield url


@pytest.fixture(scope="package")
def stream_job(settings: Settings, logs_dir: Path) -> Iterator[ChildProcess]:
    with running_stream_job(settings, logs_dir) as job:
        yield job


@pytest.fixture(scope="package")
def mysql(settings: Settings) -> Iterator[Engine]:
    engine = make_sync_engine(settings)
    yield engine
    engine.dispose()


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


SignedIn = Callable[..., Page]


@pytest.fixture(scope="package")
def open_shift(settings: Settings) -> None:
    """A shift open at the app's register: the counter takes payment only during one."""
    ensure_shift_open_sync(settings, cashier="tests")


@pytest.fixture
def signed_in(
    browser: Browser, app_url: str, settings: Settings, open_shift: None
) -> Iterator[SignedIn]:
    """signed_in(role="cashier", size="desktop") -> a page on the counter, signed in as a
    new user of that role (each test has its own cashier, so its own cart)."""
    contexts = []

    def make(role: str = "cashier", size: str = "desktop") -> Page:
        username = f"{role}-{uuid.uuid4().hex[:8]}"
        password = f"pw-{uuid.uuid4().hex}"
        create_user_sync(settings, username=username, password=password, role=role)
        with httpx.Client(base_url=app_url, timeout=15) as client:
            log_in(client, username, password)  # the login form, as a browser posts it
            cookies = [
                {"name": c.name, "value": c.value or "", "url": app_url} for c in client.cookies.jar
            ]
        width, height = SIZES[size]
        context = browser.new_context(
            base_url=app_url, viewport={"width": width, "height": height}, locale="en-GB"
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


def screenshot(page: Page, name: str, *, selector: str | None = None) -> Path:
    """Save docs/screenshots/<name>.png (the README shows them)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    if selector:
        page.locator(selector).screenshot(path=path)
    else:
        page.screenshot(path=path)
    return path


@pytest.fixture(params=list(SIZES))
def cashier_page(request: pytest.FixtureRequest, signed_in: SignedIn) -> Page:
    """The counter for a new cashier, once per screen size (the test runs twice)."""
    return signed_in("cashier", request.param)
