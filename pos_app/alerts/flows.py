"""Multi-step work on stock alerts, on the caller's transaction (its unit of work)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.alerts.service import acknowledge
from pos_app.auth.service import audit


async def acknowledge_alert(
    conn: AsyncConnection, alert_id: int, *, by: str, actor: str, stores: Collection[str]
) -> bool | None:
    """Acknowledge the alert and audit it; None if there is no such alert, False if it
    was acknowledged already (nothing to audit then). An alert of a store outside
    `stores` is no alert for this caller."""
    done = await acknowledge(conn, alert_id, by=by, stores=stores)
    if done:
        await audit(conn, actor=actor, action="alert.acknowledged", target=f"alert:{alert_id}")
    return done
