"""What the pipeline is doing: events waiting in the outbox, events the job rejected."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pymongo import AsyncMongoClient

from pos_app.api_types import UtcDateTime
from pos_app.contract import REJECTED_EVENTS_COLLECTION
from pos_app.settings import Settings


class RejectedEvent(BaseModel):
    id: str  # topic:partition:offset
    reason: str
    value: str | None  # the message as received; it may not even be JSON
    event_id: str | None
    received_at: UtcDateTime | None
    stored_at: UtcDateTime | None


async def rejected_events(
    mongo: AsyncMongoClient[dict[str, Any]], *, settings: Settings, limit: int = 100
) -> list[RejectedEvent]:
    cursor = (
        mongo[settings.mongo_database][REJECTED_EVENTS_COLLECTION]
        .find({})
        .sort("stored_at", -1)
        .limit(limit)
    )
    return [
        RejectedEvent(
            id=doc["_id"],
            reason=doc.get("reason", ""),
            value=doc.get("value"),
            event_id=doc.get("event_id"),
            received_at=doc.get("received_at"),
            stored_at=doc.get("stored_at"),
        )
        async for doc in cursor
    ]
