"""The receipt's Code 128 barcode decodes to the sale id, as a scanner reads it; receipt
links open only while genuine and unexpired."""

from __future__ import annotations

import re

import pytest

from pos_app.counter.receipt_codes import (
    BadReceiptLink,
    receipt_token,
    sale_barcode_svg,
    sale_of_token,
)
from tests.code128 import decode, modules_of

SALE_ID = "S20261201-052946-03723E"


def test_the_barcode_reads_back_as_the_sale_id() -> None:
    svg = sale_barcode_svg(SALE_ID)
    assert svg.startswith("<svg") and "style=" not in svg  # the pages' CSP refuses inline styles
    assert decode(modules_of(svg)) == SALE_ID
    assert float(re.search(r'width="([\d.]+)mm"', svg).group(1)) <= 74  # type: ignore[union-attr]


def test_a_receipt_link_opens_until_it_expires() -> None:
    token = receipt_token("secret", SALE_ID, now=1_000_000)
    assert sale_of_token("secret", token, now=1_000_000 + 29 * 86400) == SALE_ID
    with pytest.raises(BadReceiptLink, match="expired"):
        sale_of_token("secret", token, now=1_000_000 + 31 * 86400)
    with pytest.raises(BadReceiptLink, match="not genuine"):
        sale_of_token("another secret", token, now=1_000_000)
    forged = token.replace(SALE_ID, "S20261201-000000-000000")
    with pytest.raises(BadReceiptLink, match="not genuine"):
        sale_of_token("secret", forged, now=1_000_000)
    sale, expires, signature = token.split(".")
    longer = f"{sale}.{int(expires) + 86400}.{signature}"
    with pytest.raises(BadReceiptLink, match="not genuine"):
        sale_of_token("secret", longer, now=1_000_000)
    with pytest.raises(BadReceiptLink, match="not complete"):
        sale_of_token("secret", "nothing", now=1_000_000)
