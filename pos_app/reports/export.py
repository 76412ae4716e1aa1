"""CSV answers for REST routes that also speak JSON: the client asks with
`Accept: text/csv`; JSON stays the default (no Accept, */*, application/json)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import Request
from fastapi.responses import Response

CSV_MEDIA_TYPE = "text/csv"
# For the OpenAPI schema: the route may answer text/csv too.
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {CSV_MEDIA_TYPE: {"schema": {"type": "string"}}}}
}


def wants_csv(request: Request) -> bool:
    """True when Accept names text/csv (quality above 0) before any JSON or wildcard type."""
    for part in request.headers.get("accept", "").split(","):
        media, *params = (piece.strip().lower() for piece in part.split(";"))
        if media in ("application/json", "*/*", "application/*"):
            return False
        if media == CSV_MEDIA_TYPE:
            quality = next((p[2:] for p in params if p.startswith("q=")), "1")
            try:
                return float(quality) > 0
            except ValueError:
                return True
    return False


# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A cell as written: None empty, numbers as they are ("45000.00"), and text that a
    spreadsheet would run as a formula (a product named "=HYPERLINK(...)") kept as text."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_response(header: Sequence[str], rows: Iterable[Sequence[Any]], filename: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
