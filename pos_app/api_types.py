"""Types at the REST API's edge, written once: timestamps that say their offset, dates
that are dates, and input read strictly.

- `UtcDateTime`: MySQL's DATETIME columns (and PyMongo) hand back naive datetimes in
  UTC; Python code compares them as such, but in JSON a timestamp without its offset is
  not RFC 3339 and an integrator cannot tell UTC from Yangon time. So a naive value is
  written out as UTC (`+00:00`); one with an offset as it is.
- `IsoDate`: a query's day as YYYY-MM-DD only (pydantic would read `?to=0` as 1970-01-01).
- `STRICT_INPUT`: the config of the models the API reads from JSON: a JSON `false` is not
  the number 0 and "5" is not 5. Money stays a decimal string or number (`LaxDecimal`).
  Pages and spreadsheets fill the same models from form text: they validate with
  `strict=False`.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BeforeValidator, ConfigDict, PlainSerializer, Strict


def _with_offset(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


UtcDateTime = Annotated[
    datetime, PlainSerializer(_with_offset, return_type=datetime, when_used="json")
]

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_day(value: object) -> object:
    if isinstance(value, str):
        if not _ISO_DAY.fullmatch(value):
            raise ValueError("a day is written YYYY-MM-DD")
        return date.fromisoformat(value)
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_day)]

STRICT_INPUT = ConfigDict(extra="forbid", strict=True)

# A decimal from JSON comes as a string ("100000") or a number, both fine.
LaxDecimal = Annotated[Decimal, Strict(False)]
