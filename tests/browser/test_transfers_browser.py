"""Transfers in a real headless Chromium: a manager sends goods to another store (a bad
line is refused with a message and sends nothing), prints the slip, and the other
store's manager receives them; the units move through the pipeline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import Engine, insert, select

from pos_app.db.tables import product_stores, stocks
from pos_app.settings import Settings
from tests.browser.support import SignedIn, screenshot
from tests.stack_support import ChildProcess, running_app, wait_for

pytestmark = pytest.mark.stack
SKU = "LGY-YAW-MRN"  # moved by no other test
OTHER_STORE = "bago-1"


@pytest.fixture(scope="module")
def other_store_url(settings: Settings, logs_dir: Path, mysql: Engine) -> Iterator[str]:
    with mysql.begin() as conn:
        conn.execute(
            insert(product_stores).prefix_with("IGNORE"), {"store_id": OTHER_STORE, "sku": SKU}
        )
    with running_app(settings.model_copy(update={"store_id": OTHER_STORE}), logs_dir) as url:
        yield url


def on_hand(mysql: Engine, store_id: str) -> int:
    with mysql.connect() as conn:
        found = conn.scalar(
            select(stocks.c.on_hand).where(stocks.c.store_id == store_id, stocks.c.sku == SKU)
        )
    return int(found or 0)


def test_send_print_and_receive_a_transfer(
    signed_in: SignedIn,
    settings: Settings,
    other_store_url: str,
    stream_job: ChildProcess,
    mysql: Engine,
) -> None:
    here_before, there_before = on_hand(mysql, settings.store_id), on_hand(mysql, OTHER_STORE)
    manager = signed_in("manager")
    manager.goto("/manager/transfers")
    manager.locator("#to-store").select_option(OTHER_STORE)
    manager.locator("[name=sku_1]").fill(SKU)
    manager.locator("[name=qty_1]").fill(str(here_before + 1))
    manager.locator("#send-transfer").click()
    expect(manager.locator("#transfer-error")).to_contain_text("on hand")

    manager.locator("[name=qty_1]").fill("2")
    manager.locator("#transfer-note").fill("for the Bago shop")
    manager.locator("#send-transfer").click()
    expect(manager.locator("#transfer-status")).to_have_text("in transit")
    transfer_id = manager.url.rsplit("/", 1)[1]
    expect(manager.locator(f"#transfer tr[data-sku='{SKU}'] td.num")).to_have_text("2")
    expect(manager.locator("#receive-transfer")).to_have_count(0)  # received at the other store
    screenshot(manager, "manager-transfer-slip")
    wait_for(
        lambda: on_hand(mysql, settings.store_id) == here_before - 2,
        timeout=60,
        what="the units gone from the sending store",
    )
    manager.goto("/manager/transfers")
    expect(manager.locator(f"#outgoing tr[data-transfer='{transfer_id}']")).to_be_visible()
    screenshot(manager, "manager-transfers")

    # The other store's app on the same database: the session cookie is good there too.
    manager.goto(f"{other_store_url}/manager/transfers")
    row = manager.locator(f"#incoming tr[data-transfer='{transfer_id}']")
    expect(row).to_be_visible()
    screenshot(manager, "manager-transfers-arriving")
    row.get_by_role("button").click()
    expect(manager.locator("#transfer-status")).to_have_text("received")
    wait_for(
        lambda: on_hand(mysql, OTHER_STORE) == there_before + 2,
        timeout=60,
        what="the units at the receiving store",
    )
    assert on_hand(mysql, settings.store_id) == here_before - 2
