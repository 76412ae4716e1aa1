"""Managers' approval PINs: a manager or admin types theirs at the counter to approve
what is over the cashier's limit (a discount, a refund).

A PIN is short, so it is hashed like a password (argon2id) and never stored plain, and
wrong PINs are throttled like sign-ins: per approver and address, with the sign-in's
back-off rule (`lock_duration`), on the same locked throttle row so parallel guesses
wait for each other."""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from pos_app.auth.passwords import verify_dummy
from pos_app.auth.roles import Role, role_allows
from pos_app.auth.service import audit, bookkeeping, lock_duration, utcnow
from pos_app.auth.tables import login_throttles, user_pins, users
from pos_app.i18n import N_, gettext

PIN = re.compile(r"[0-9]{4,8}")
# The throttle row of an approver's PIN; a name no username can take (no ':' allowed).
THROTTLE_PREFIX = "pin:"
WRONG_PIN = N_("wrong manager or PIN")

_hasher = PasswordHasher()


class PinRefused(ValueError):
    """The approval was not given; the message says why (shown at the counter)."""


class PinLocked(PinRefused):
    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            gettext("too many wrong PINs: try again in %(seconds)s s", seconds=retry_after_seconds)
        )
        self.retry_after_seconds = retry_after_seconds


def check_pin_format(pin: str) -> str:
    if not PIN.fullmatch(pin):
        raise PinRefused(gettext("a PIN is 4 to 8 digits"))
    return pin


def hash_pin(pin: str) -> str:
    return _hasher.hash(check_pin_format(pin))


def _verify(pin_hash: str, pin: str) -> bool:
    try:
        return _hasher.verify(pin_hash, pin)
    except (VerificationError, InvalidHashError):
        return False


async def set_pin(conn: AsyncConnection, *, username: str, pin: str, actor: str) -> None:
    """Set (or change) a manager's or admin's own approval PIN."""
    row = (
        await conn.execute(select(users.c.id, users.c.role).where(users.c.username == username))
    ).one_or_none()
    if row is None:
        raise PinRefused(gettext("no user %(name)s", name=username))
    if not role_allows(row.role, Role.manager):
        raise PinRefused(gettext("only managers and admins approve with a PIN"))
    pin_hash = await asyncio.to_thread(hash_pin, pin)
    upsert = mysql_insert(user_pins).values(user_id=row.id, pin_hash=pin_hash)
    await conn.execute(upsert.on_duplicate_key_update(pin_hash=pin_hash, updated_at=utcnow()))
    await audit(conn, actor=actor, action="user.pin_set", target=f"user:{username}")


async def has_pin(conn: AsyncConnection, *, username: str) -> bool:
    found = await conn.scalar(
        select(user_pins.c.user_id)
        .join(users, users.c.id == user_pins.c.user_id)
        .where(users.c.username == username)
    )
    return found is not None


@dataclass(frozen=True)
class Approval:
    approver: str  # the manager's username
    role: str


async def approve(
    conn: AsyncConnection,
    *,
    approver: str,
    pin: str,
    client: str = "",
    now: datetime | None = None,
) -> Approval:
    """Check a manager's PIN typed at the counter from `client` (its address). Raises
    PinRefused (wrong, unknown, not a manager, no PIN set) or PinLocked. The caller's
    transaction must commit even on a refusal, so the failure count is kept: see
    `approver_at`."""
    now = utcnow(now)
    name = approver.strip().lower()[:50]
    key = {"username": f"{THROTTLE_PREFIX}{name}", "client": client[:64]}
    upsert = mysql_insert(login_throttles).values(**key)
    await conn.execute(upsert.on_duplicate_key_update(failures=login_throttles.c.failures))
    where = (
        login_throttles.c.username == key["username"],
        login_throttles.c.client == key["client"],
    )
    throttle = (
        await conn.execute(
            select(login_throttles.c.failures, login_throttles.c.blocked_until)
            .where(*where)
            .with_for_update()
        )
    ).one()
    if throttle.blocked_until is not None and throttle.blocked_until > now:
        raise PinLocked(math.ceil((throttle.blocked_until - now).total_seconds()))
    row = (
        await conn.execute(
            select(users.c.username, users.c.role, users.c.active, user_pins.c.pin_hash)
            .join(user_pins, user_pins.c.user_id == users.c.id)
            .where(users.c.username == name)
        )
    ).one_or_none()
    if row is None:
        await asyncio.to_thread(verify_dummy, pin)  # the same work: timing tells nothing
        ok = False
    else:
        ok = await asyncio.to_thread(_verify, row.pin_hash, pin)
    if not ok or row is None or not row.active or not role_allows(row.role, Role.manager):
        failures = throttle.failures + 1
        lock = lock_duration(failures)
        await conn.execute(
            update(login_throttles)
            .where(*where)
            .values(failures=failures, blocked_until=now + lock if lock else None, updated_at=now)
        )
        if lock:
            raise PinLocked(int(lock.total_seconds()))
        raise PinRefused(gettext(WRONG_PIN))
    await conn.execute(delete(login_throttles).where(*where))
    return Approval(approver=row.username, role=str(row.role))


# Checks a manager's name and PIN; raises PinRefused.
Approver = Callable[[str, str], Awaitable[Approval]]


def approver_at(engine: AsyncEngine, *, client: str) -> Approver:
    """`approve` in a short transaction of its own (like a sign-in's bookkeeping): the
    failure count is committed whatever the request does next, and the request's unit of
    work is not begun by it (a return's lock must be its first statement)."""

    async def check(approver: str, pin: str) -> Approval:
        refused: PinRefused
        async with bookkeeping(engine) as conn:
            try:
                return await approve(conn, approver=approver, pin=pin, client=client)
            except PinRefused as error:
                refused = error
        raise refused

    return check
