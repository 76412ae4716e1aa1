"""EAN-13 barcodes: the check digit, the shop's own codes and what a scanned code must be.

GS1 keeps the prefixes 20-29 for codes a shop makes for itself, so an in-store code never
clashes with a manufacturer's barcode."""

from __future__ import annotations

import hashlib

IN_STORE_PREFIX = "200"  # within GS1's 20-29 in-store range

NOT_DIGITS = "a barcode is 8 to 14 digits (EAN-13: 13)"
BAD_CHECK_DIGIT = "the barcode's last digit is not its EAN-13 check digit (mistyped?)"


def ean13_check_digit(first12: str) -> str:
    weighted = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return str((10 - weighted % 10) % 10)


def ean13_for_sku(sku: str, attempt: int = 0) -> str:
    """A stable in-store EAN-13 for a SKU; `attempt` > 0 draws another one for the rare
    SKU whose code another product already has."""
    seed = sku if attempt == 0 else f"{sku}#{attempt}"
    digits = int(hashlib.sha256(seed.encode()).hexdigest(), 16) % 10**9
    first12 = f"{IN_STORE_PREFIX}{digits:09d}"
    return first12 + ean13_check_digit(first12)


def barcode_problem(code: str) -> str | None:
    """Why a typed or scanned barcode cannot be used, or None. EAN-13 codes (and the
    in-store ones among them) must carry a right check digit; other lengths (EAN-8,
    UPC-A, GTIN-14) are taken as the scanner read them."""
    if not (code.isdigit() and 8 <= len(code) <= 14):
        return NOT_DIGITS
    if len(code) == 13 and code[-1] != ean13_check_digit(code[:12]):
        return BAD_CHECK_DIGIT
    return None
