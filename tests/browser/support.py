"""Helpers for the browser tests (their fixtures are in tests/browser/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page

from pos_app.settings import REPO_ROOT

# The two screens the counter must work on: a laptop and a tablet held upright.
SIZES = {"desktop": (1280, 800), "tablet": (768, 1024)}
# Any page may also be opened on a phone (the Burmese pages' tests do).
SCREENS = {**SIZES, "phone": (390, 844)}
SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"

# signed_in(role="cashier", size="desktop") -> a page signed in as a new user of that role.
SignedIn = Callable[..., Page]


def screenshot(page: Page, name: str, *, selector: str | None = None) -> Path:
    """Save docs/screenshots/<name>.png (the README shows them)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    if selector:
        page.locator(selector).screenshot(path=path)
    else:
        page.screenshot(path=path)
    return path
