"""Units sold per product and local month, from the raw events in MongoDB.

MongoDB filters (event type and store) and projects only the fields needed; the
months are summed here because FerretDB v1 implements neither `$substrBytes` nor
compound `$group` keys. A few tens of thousands of small documents fold in well
under a second.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pos_app.contract import RAW_EVENTS_COLLECTION, SALE_COMPLETED, SALE_RETURNED
from pos_app.planning.forecast import Month

QUERY_FIELDS = {
    "event.event_type": 1,
    "event.occurred_at": 1,
    "event.lines.sku": 1,
    "event.lines.quantity": 1,
}


def local_month(occurred_at: str) -> Month:
    """The month as the event states it: occurred_at carries the shop's own offset
    (docs/events.md), so its date is the local date whatever zone the server is in."""
    when = datetime.fromisoformat(occurred_at)
    return when.year, when.month


def fold(events: Iterable[Mapping[str, Any]]) -> dict[tuple[str, Month], int]:
    """events: the `event` part of raw_events documents. Sales add their lines' units to
    the month they occurred in; returns take theirs off the month of the return."""
    units: dict[tuple[str, Month], int] = defaultdict(int)
    for event in events:
        sign = -1 if event.get("event_type") == SALE_RETURNED else 1
        month = local_month(str(event["occurred_at"]))
        for line in event.get("lines") or ():
            units[(str(line["sku"]), month)] += sign * int(line["quantity"])
    return dict(units)


async def load_history(
    database: Any, *, store_id: str, since: Month, until: Month
) -> dict[tuple[str, Month], int]:
    """Units per (sku, month) for the months since..until-1. database: an
    AsyncMongoClient database. occurred_at strings carry the local time first, so
    comparing them as text selects local months (and uses the occurred_at index)."""
    cursor = database[RAW_EVENTS_COLLECTION].find(
        {
            "event.store_id": store_id,
            "event.event_type": {"$in": [SALE_COMPLETED, SALE_RETURNED]},
            "event.occurred_at": {
                "$gte": f"{since[0]:04d}-{since[1]:02d}",
                "$lt": f"{until[0]:04d}-{until[1]:02d}",
            },
        },
        QUERY_FIELDS,
        batch_size=5000,
    )
    return fold([document["event"] async for document in cursor])
