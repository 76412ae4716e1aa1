"""What a receipt carries besides its lines: a Code 128 barcode of the sale id (drawn on
the server as SVG; the counter's Returns page takes it from a scanner) and a signed link
that opens the receipt without a sign-in until it expires, to send by Viber or SMS."""

from __future__ import annotations

import hashlib
import hmac
import io
import re
import time

from barcode import Code128
from barcode.writer import SVGWriter
from markupsafe import Markup

LINK_DAYS = 30  # how long a receipt link opens the receipt
SIGNATURE_CHARS = 32  # of the hex HMAC-SHA256: 128 bits
# 0.25 mm bars: a sale id's code is about 68 mm wide, inside an 80 mm roll's 74 mm.
BARCODE_OPTIONS = {
    "module_width": 0.25,
    "module_height": 12.0,
    "quiet_zone": 2.0,
    "font_size": 0,  # the id is printed beside it as text
    "text_distance": 1.0,
}


def sale_barcode_svg(sale_id: str) -> Markup:
    """The sale id as a Code 128 barcode, an inline <svg> element."""
    out = io.BytesIO()
    Code128(sale_id, writer=SVGWriter()).write(out, options=BARCODE_OPTIONS)
    svg = out.getvalue().decode()
    svg = svg[svg.index("<svg") :]  # inline in the page: no XML declaration or doctype
    # The pages' Content-Security-Policy refuses inline style attributes: fills become
    # presentation attributes, and the caption (the id is printed under it) goes.
    svg = re.sub(r'style="fill:(\w+);?"', r'fill="\1"', svg)
    svg = re.sub(r"<text[^>]*>.*?</text>", "", svg, flags=re.S)
    return Markup(svg)  # drawn here from a stored sale id


def _signature(secret: str, sale_id: str, expires: int) -> str:
    message = f"receipt:{sale_id}:{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:SIGNATURE_CHARS]


def receipt_token(secret: str, sale_id: str, *, now: float | None = None) -> str:
    expires = int((now if now is not None else time.time()) + LINK_DAYS * 86400)
    return f"{sale_id}.{expires}.{_signature(secret, sale_id, expires)}"


class BadReceiptLink(ValueError):
    """The link is malformed, forged or expired; the message says which."""


def sale_of_token(secret: str, token: str, *, now: float | None = None) -> str:
    """The sale id a receipt link opens, if it is genuine and not expired."""
    sale_id, _, rest = token.partition(".")
    expires_text, _, signature = rest.partition(".")
    if not sale_id or not expires_text.isdigit() or not signature:
        raise BadReceiptLink("this receipt link is not complete")
    expires = int(expires_text)
    if not hmac.compare_digest(signature, _signature(secret, sale_id, expires)):
        raise BadReceiptLink("this receipt link is not genuine")
    if (now if now is not None else time.time()) > expires:
        raise BadReceiptLink("this receipt link has expired; ask the shop for a new one")
    return sale_id
