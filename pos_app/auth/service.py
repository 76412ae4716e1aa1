"""Users, login sessions, API keys and the audit log.

Every function works on the caller's connection and leaves the commit to the caller,
so an audit row shares the transaction of what it records. Even a failed login writes
(the failure counter): commit after catching `LoginFailed` / `LoginLocked` too.
Session bookkeeping (who is asking, last seen, failure counts) runs in a short
transaction of its own, `bookkeeping(engine)`, so a request's own work is not begun by it
and its counters stay written whatever the request does next.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import math
import re
import secrets
import string
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from pydantic import BaseModel, field_validator
from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from pos_app.api_types import UtcDateTime
from pos_app.auth.passwords import hash_password, needs_rehash, verify_dummy, verify_password
from pos_app.auth.roles import ALL_SCOPES, Role
from pos_app.auth.tables import api_keys, audit_log, login_sessions, login_throttles, users
from pos_app.i18n import DEFAULT_LOCALE, LANGUAGES, N_

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,59}")
STORE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
BAD_CREDENTIALS = N_("wrong username or password")  # translated on the sign-in page
MAX_FAILURES = 5
FIRST_LOCK = timedelta(seconds=30)
MAX_LOCK = timedelta(minutes=15)
SESSION_TTL = timedelta(hours=12)
# last_seen_at / last_used_at are written at most this often, not on every request.
TOUCH_EVERY = timedelta(minutes=1)
KEY_PREFIX_LENGTH = 8
_KEY_PREFIX = re.compile(rf"[a-z0-9]{{{KEY_PREFIX_LENGTH}}}")
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits


class User(BaseModel):
    id: int
    username: str
    display_name: str
    role: Role
    locale: str
    active: bool
    stores: list[str]
    created_at: datetime
    # Until when sign-ins from some address are held back after failures (None: nowhere).
    locked_until: datetime | None = None

    _split_stores = field_validator("stores", mode="before")(lambda value: _split(value))


class ApiKey(BaseModel):
    id: int
    name: str
    prefix: str
    scopes: list[str]
    stores: list[str]
    created_by: str
    created_at: UtcDateTime
    revoked_at: UtcDateTime | None
    last_used_at: UtcDateTime | None

    _split_stores = field_validator("stores", mode="before")(lambda value: _split(value))


def _split(value: object) -> object:
    """Stored space-separated, as the scopes are."""
    return value.split() if isinstance(value, str) else value


class AuditEntry(BaseModel):
    id: int
    at: UtcDateTime
    actor: str
    action: str
    target: str | None
    details: dict[str, Any] | None


class UserExists(ValueError):
    pass


class LastAdmin(ValueError):
    """Deactivating this admin would leave nobody to manage users (HTTP 409)."""


class LoginFailed(Exception):
    def __init__(self, message: str = BAD_CREDENTIALS) -> None:
        super().__init__(message)
        self.message = message


class LoginLocked(Exception):
    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f"too many failed logins: try again in {retry_after_seconds} s")
        self.retry_after_seconds = retry_after_seconds


# --- Pure parts, shared with the synchronous CLI -------------------------------------


def utcnow(now: datetime | None = None) -> datetime:
    """Naive UTC to the millisecond, as the DATETIME(3) columns hold it (the server's
    clock is UTC as well)."""
    now = datetime.now(UTC) if now is None else now
    if now.tzinfo is not None:
        now = now.astimezone(UTC).replace(tzinfo=None)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def sha256_hex(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


def new_api_key() -> tuple[str, str]:
    """A fresh key `pos_<prefix>_<secret>` and its prefix, the part safe to show in lists."""
    prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(KEY_PREFIX_LENGTH))
    return prefix, f"pos_{prefix}_{secrets.token_urlsafe(32)}"


def key_prefix(key: str) -> str | None:
    """The prefix of a well-formed key, else None."""
    marker, _, rest = key.partition("_")
    prefix, _, secret = rest.partition("_")
    if marker != "pos" or not _KEY_PREFIX.fullmatch(prefix) or not secret:
        return None
    return prefix


def parse_scopes(scopes: Iterable[str] | str) -> frozenset[str]:
    wanted = frozenset(scopes.split() if isinstance(scopes, str) else scopes)
    unknown = wanted - ALL_SCOPES
    if unknown:
        raise ValueError(
            f"unknown scope(s): {', '.join(sorted(unknown))}; "
            f"known: {', '.join(sorted(ALL_SCOPES))}"
        )
    if not wanted:
        raise ValueError("choose at least one scope")
    return wanted


def parse_stores(stores: Iterable[str] | str) -> frozenset[str]:
    """The stores a person or key may read and write: at least one, each a store id."""
    wanted = frozenset(
        stores.replace(",", " ").split() if isinstance(stores, str) else (s.strip() for s in stores)
    ) - {""}
    bad = sorted(store for store in wanted if not STORE_ID.fullmatch(store))
    if bad:
        raise ValueError(f"not a store id: {', '.join(bad)}")
    if not wanted:
        raise ValueError("choose at least one store")
    return wanted


def normalise_username(username: str) -> str:
    name = username.strip().lower()
    if not USERNAME.fullmatch(name):
        raise ValueError(
            "a username is 2-60 characters: lowercase letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def lock_duration(failures: int) -> timedelta | None:
    """How long the account is locked after this many consecutive failures."""
    if failures < MAX_FAILURES:
        return None
    doublings = min(failures - MAX_FAILURES, 10)  # the cap is reached long before 2**10
    return min(FIRST_LOCK * (1 << doublings), MAX_LOCK)


def check_locale(locale: str) -> str:
    if locale not in LANGUAGES:
        raise ValueError(f"unknown language {locale!r}: one of {', '.join(LANGUAGES)}")
    return locale


def new_user_values(
    *,
    username: str,
    password: str,
    role: Role | str,
    stores: Iterable[str] | str,
    display_name: str | None = None,
    locale: str = DEFAULT_LOCALE,
) -> dict[str, Any]:
    """The row for a new user (checks and hashes; slow: argon2)."""
    name = normalise_username(username)
    try:
        checked_role = Role(role)
    except ValueError:
        raise ValueError(f"unknown role {role!r}: one of {', '.join(Role)}") from None
    return {
        "username": name,
        "display_name": (display_name or "").strip()[:120] or name,
        "password_hash": hash_password(password),
        "role": checked_role.value,
        "locale": check_locale(locale),
        "stores": " ".join(sorted(parse_stores(stores))),
    }


def new_api_key_values(
    *, name: str, scopes: Iterable[str] | str, stores: Iterable[str] | str, created_by: str
) -> tuple[dict[str, Any], str]:
    """The row for a new API key, and the full key (shown once, never stored)."""
    label = name.strip()
    if not label or len(label) > 80:
        raise ValueError("an API key needs a name of 1-80 characters")
    checked = parse_scopes(scopes)
    prefix, key = new_api_key()
    row = {
        "name": label,
        "prefix": prefix,
        "key_hash": sha256_hex(key),
        "scopes": " ".join(sorted(checked)),
        "stores": " ".join(sorted(parse_stores(stores))),
        "created_by": created_by[:60],
    }
    return row, key


@asynccontextmanager
async def bookkeeping(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A short transaction of its own for session bookkeeping (last seen, last used,
    failure counts): it commits on leaving, apart from the request's unit of work."""
    async with engine.begin() as conn:
        yield conn


# --- Users ---------------------------------------------------------------------------

_USER_COLUMNS = [c for c in users.c if c.name != "password_hash"]


async def _user(conn: AsyncConnection, user_id: int) -> User:
    row = (await conn.execute(select(*_USER_COLUMNS).where(users.c.id == user_id))).mappings()
    return User.model_validate(dict(row.one()))


async def create_user(
    conn: AsyncConnection,
    *,
    username: str,
    password: str,
    role: Role | str,
    stores: Iterable[str] | str,
    display_name: str | None = None,
    locale: str = DEFAULT_LOCALE,
) -> User:
    values = await asyncio.to_thread(
        new_user_values,
        username=username,
        password=password,
        role=role,
        stores=stores,
        display_name=display_name,
        locale=locale,
    )
    try:
        result = await conn.execute(insert(users).values(values))
    except IntegrityError:
        raise UserExists(f"the username {values['username']!r} is taken") from None
    return await _user(conn, result.lastrowid)


async def list_users(conn: AsyncConnection, *, now: datetime | None = None) -> list[User]:
    blocked = (
        select(
            login_throttles.c.username,
            func.max(login_throttles.c.blocked_until).label("locked_until"),
        )
        .where(login_throttles.c.blocked_until > utcnow(now))
        .group_by(login_throttles.c.username)
        .subquery()
    )
    rows = (
        await conn.execute(
            select(*_USER_COLUMNS, blocked.c.locked_until)
            .outerjoin(blocked, blocked.c.username == users.c.username)
            .order_by(users.c.username)
        )
    ).mappings()
    return [User.model_validate(dict(row)) for row in rows]


async def set_user_locale(conn: AsyncConnection, *, username: str, locale: str) -> bool:
    """The language of someone's pages; False when there is no such user."""
    result = await conn.execute(
        update(users)
        .where(users.c.username == normalise_username(username))
        .values(locale=check_locale(locale), updated_at=utcnow())
    )
    return result.rowcount > 0


async def set_user_active(conn: AsyncConnection, *, username: str, active: bool) -> bool:
    """False if there is no such user. Deactivating also ends the user's sessions; the
    last active admin is never deactivated (LastAdmin). The active admins' rows are
    locked first, so two admins deactivating each other at once cannot both succeed."""
    name = username.strip().lower()
    if not active:
        admins = await conn.scalars(
            select(users.c.username)
            .where(users.c.role == Role.admin.value, users.c.active.is_(True))
            .with_for_update()
        )
        if set(admins) == {name}:
            raise LastAdmin(f"{name} is the last active admin: make another admin first")
    result = await conn.execute(
        update(users).where(users.c.username == name).values(active=active, updated_at=utcnow())
    )
    if not active:
        await conn.execute(
            delete(login_sessions).where(
                login_sessions.c.user_id.in_(select(users.c.id).where(users.c.username == name))
            )
        )
    return result.rowcount > 0


async def authenticate(
    conn: AsyncConnection,
    *,
    username: str,
    password: str,
    client: str = "",
    now: datetime | None = None,
) -> User:
    """Check a sign-in from `client` (its address). Failures are counted per username and
    address; the count's row is locked first, so parallel guesses wait for each other and
    each sees the block the one before it earned: none gets its password checked then."""
    now = utcnow(now)
    name = username.strip().lower()
    key = {"username": name[:60], "client": client[:64]}
    # Takes the row's write lock at once (INSERT IGNORE would take a shared one first, and
    # two waiting guesses would then deadlock on the upgrade).
    upsert = mysql_insert(login_throttles).values(**key)
    await conn.execute(upsert.on_duplicate_key_update(failures=login_throttles.c.failures))
    throttle = (
        await conn.execute(
            select(login_throttles.c.failures, login_throttles.c.blocked_until)
            .where(
                login_throttles.c.username == key["username"],
                login_throttles.c.client == key["client"],
            )
            .with_for_update()
        )
    ).one()
    if throttle.blocked_until is not None and throttle.blocked_until > now:
        raise LoginLocked(math.ceil((throttle.blocked_until - now).total_seconds()))
    row = (await conn.execute(select(users).where(users.c.username == name))).mappings().first()
    failures = throttle.failures + 1
    if row is None:
        # Same argon2 work as for a real user, so timing does not tell which names exist.
        await asyncio.to_thread(verify_dummy, password)
        await _record_failure(conn, key=key, failures=failures, now=now)
    if not await asyncio.to_thread(verify_password, row["password_hash"], password):
        await _record_failure(conn, key=key, failures=failures, now=now)
    if not row["active"]:
        raise LoginFailed("this account is disabled: ask an admin")
    await conn.execute(
        delete(login_throttles).where(
            login_throttles.c.username == key["username"],
            login_throttles.c.client == key["client"],
        )
    )
    if needs_rehash(row["password_hash"]):
        await conn.execute(
            update(users)
            .where(users.c.id == row["id"])
            .values(password_hash=await asyncio.to_thread(hash_password, password), updated_at=now)
        )
    return await _user(conn, row["id"])


async def check_login(
    engine: AsyncEngine, *, username: str, password: str, client: str = ""
) -> User:
    """`authenticate` as bookkeeping: the failure count (and the block) is committed even
    when the sign-in is refused, and the refusal is raised after that commit."""
    refused: LoginFailed | LoginLocked
    async with bookkeeping(engine) as conn:
        try:
            return await authenticate(conn, username=username, password=password, client=client)
        except (LoginFailed, LoginLocked) as error:
            refused = error
    raise refused


async def _record_failure(
    conn: AsyncConnection, *, key: dict[str, str], failures: int, now: datetime
) -> NoReturn:
    """Count the failure on the (row-locked) throttle; raise the outcome."""
    lock = lock_duration(failures)
    await conn.execute(
        update(login_throttles)
        .where(
            login_throttles.c.username == key["username"],
            login_throttles.c.client == key["client"],
        )
        .values(failures=failures, blocked_until=now + lock if lock else None, updated_at=now)
    )
    if lock:
        raise LoginLocked(int(lock.total_seconds()))
    raise LoginFailed()


async def user_exists(conn: AsyncConnection, *, username: str) -> bool:
    name = username.strip().lower()
    return await conn.scalar(select(users.c.id).where(users.c.username == name)) is not None


async def unlock_user(conn: AsyncConnection, *, username: str) -> int:
    """Let the user sign in again from everywhere at once (an admin's decision): forget
    their failed sign-ins. Returns how many addresses were held back."""
    result = await conn.execute(
        delete(login_throttles).where(login_throttles.c.username == username.strip().lower())
    )
    return int(result.rowcount)


# --- Login sessions ------------------------------------------------------------------


async def start_session(
    conn: AsyncConnection,
    *,
    user_id: int,
    ttl: timedelta = SESSION_TTL,
    now: datetime | None = None,
) -> str:
    """A new session; returns the cookie token. Only its sha256 is stored."""
    now = utcnow(now)
    token = new_session_token()
    await conn.execute(
        insert(login_sessions).values(
            token_hash=sha256_hex(token),
            user_id=user_id,
            created_at=now,
            expires_at=now + ttl,
            last_seen_at=now,
        )
    )
    return token


async def session_user(
    conn: AsyncConnection, *, token: str, now: datetime | None = None
) -> User | None:
    now = utcnow(now)
    token_hash = sha256_hex(token)
    row = (
        (
            await conn.execute(
                select(*_USER_COLUMNS, login_sessions.c.expires_at, login_sessions.c.last_seen_at)
                .join(login_sessions, login_sessions.c.user_id == users.c.id)
                .where(login_sessions.c.token_hash == token_hash)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    if row["expires_at"] <= now:
        await conn.execute(delete(login_sessions).where(login_sessions.c.token_hash == token_hash))
        return None
    if not row["active"]:
        return None
    if now - row["last_seen_at"] >= TOUCH_EVERY:
        await conn.execute(
            update(login_sessions)
            .where(login_sessions.c.token_hash == token_hash)
            .values(last_seen_at=now)
        )
    return User.model_validate(dict(row))


async def end_session(conn: AsyncConnection, *, token: str) -> None:
    await conn.execute(
        delete(login_sessions).where(login_sessions.c.token_hash == sha256_hex(token))
    )


# --- API keys ------------------------------------------------------------------------


def _api_key(row: Any) -> ApiKey:
    return ApiKey.model_validate({**row, "scopes": row["scopes"].split()})


async def create_api_key(
    conn: AsyncConnection,
    *,
    name: str,
    scopes: Iterable[str] | str,
    stores: Iterable[str] | str,
    created_by: str,
) -> tuple[ApiKey, str]:
    """The new key's record and the full key: show it once, it cannot be recovered."""
    values, key = new_api_key_values(name=name, scopes=scopes, stores=stores, created_by=created_by)
    await conn.execute(insert(api_keys).values(values))
    row = await conn.execute(select(api_keys).where(api_keys.c.prefix == values["prefix"]))
    return _api_key(row.mappings().one()), key


# Built once: this runs on every API request.
_KEY_BY_PREFIX = select(api_keys).where(api_keys.c.prefix == bindparam("prefix"))


async def resolve_api_key(
    conn: AsyncConnection, *, key: str, now: datetime | None = None
) -> ApiKey | None:
    """The key's record if it is ours and not revoked, else None."""
    prefix = key_prefix(key)
    if prefix is None:
        return None
    row = (await conn.execute(_KEY_BY_PREFIX, {"prefix": prefix})).mappings().first()
    if row is None or not hmac.compare_digest(row["key_hash"], sha256_hex(key)):
        return None
    if row["revoked_at"] is not None:
        return None
    now = utcnow(now)
    if row["last_used_at"] is None or now - row["last_used_at"] >= TOUCH_EVERY:
        await conn.execute(
            update(api_keys).where(api_keys.c.id == row["id"]).values(last_used_at=now)
        )
        return _api_key({**row, "last_used_at": now})
    return _api_key(row)


async def revoke_api_key(
    conn: AsyncConnection, *, prefix: str, by: str, now: datetime | None = None
) -> bool:
    """Revoke at once; `by` is the actor, recorded as "apikey.revoked" in the audit log.
    False if no active key has this prefix."""
    result = await conn.execute(
        update(api_keys)
        .where(api_keys.c.prefix == prefix, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=utcnow(now))
    )
    if result.rowcount == 0:
        return False
    await audit(conn, actor=by, action="apikey.revoked", target=f"apikey:{prefix}")
    return True


async def list_api_keys(conn: AsyncConnection) -> list[ApiKey]:
    rows = (await conn.execute(select(api_keys).order_by(api_keys.c.id.desc()))).mappings()
    return [_api_key(row) for row in rows]


# --- Audit log -----------------------------------------------------------------------

# Statements on every sale's path are built once: building one costs more than running it.
_INSERT_AUDIT = insert(audit_log)


def audit_values(
    *, actor: str, action: str, target: str | None = None, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An audit row; over-long values (a name someone typed) are cut to fit."""
    return {
        "actor": actor[:80],
        "action": action[:60],
        "target": target[:120] if target is not None else None,
        "details": (
            json.dumps(details, default=str, ensure_ascii=False, sort_keys=True)
            if details is not None
            else None
        ),
    }


async def audit(
    conn: AsyncConnection,
    *,
    actor: str,
    action: str,
    target: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    values = audit_values(actor=actor, action=action, target=target, details=details)
    await conn.execute(_INSERT_AUDIT, values)


async def list_audit(
    conn: AsyncConnection, *, limit: int = 200, before_id: int | None = None
) -> list[AuditEntry]:
    """Newest first; pass the last id seen as `before_id` for the next page."""
    query = select(audit_log).order_by(audit_log.c.id.desc()).limit(max(1, min(limit, 1000)))
    if before_id is not None:
        query = query.where(audit_log.c.id < before_id)
    rows = (await conn.execute(query)).mappings()
    return [
        AuditEntry.model_validate(
            {**row, "details": json.loads(row["details"]) if row["details"] else None}
        )
        for row in rows
    ]
