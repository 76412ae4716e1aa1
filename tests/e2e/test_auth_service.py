"""The auth service on a real MariaDB: users and lockout, sessions, API keys, the audit
log, and the posctl helpers. Needs only MariaDB from the local stack; the module makes
its own database and drops it at the end."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from typing import TypeVar

import pytest
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from pos_app.auth import service
from pos_app.auth.cli import create_api_key_sync, create_user_sync, unlock_user_sync
from pos_app.auth.service import LoginFailed, LoginLocked, UserExists, utcnow
from pos_app.auth.tables import api_keys, login_sessions, login_throttles, users
from pos_app.db.engine import make_async_engine, make_sync_engine
from pos_app.db.tables import metadata
from pos_app.settings import Settings

pytestmark = pytest.mark.stack

T = TypeVar("T")
DB = "pos_authtest"
PASSWORD = "longenough-1"
STORES = ["yangon-1", "mandalay-1"]  # any store ids: the service checks only their form

Run = Callable[[Callable[[AsyncConnection], Awaitable[T]]], T]


@pytest.fixture(scope="module")
def settings() -> Iterator[Settings]:
    admin = create_engine(Settings(mysql_database="information_schema").mysql_url("pymysql"))
    with admin.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{DB}`"))
        conn.execute(text(f"CREATE DATABASE `{DB}` CHARACTER SET utf8mb4"))
    test_settings = Settings(mysql_database=DB)
    engine = make_sync_engine(test_settings)
    metadata.create_all(engine)
    engine.dispose()
    try:
        yield test_settings
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{DB}`"))
        admin.dispose()


@pytest.fixture(scope="module")
def run(settings: Settings) -> Run[object]:
    """Run `work(conn)` on a fresh connection and commit, even when it raises: a failed
    login writes its failure count, and the login route commits it too."""

    def call(work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        async def go() -> T:
            engine = make_async_engine(settings)
            try:
                async with engine.connect() as conn:
                    try:
                        return await work(conn)
                    finally:
                        await conn.commit()
            finally:
                await engine.dispose()

        return asyncio.run(go())

    return call


def _user_row(settings: Settings, username: str) -> dict[str, object]:
    engine = make_sync_engine(settings)
    try:
        with engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.username == username)).mappings()
            return dict(row.one())
    finally:
        engine.dispose()


def _throttle(settings: Settings, username: str, client: str = "") -> dict[str, object] | None:
    engine = make_sync_engine(settings)
    try:
        with engine.connect() as conn:
            found = conn.execute(
                select(login_throttles).where(
                    login_throttles.c.username == username, login_throttles.c.client == client
                )
            )
            row = found.mappings().first()
            return dict(row) if row is not None else None
    finally:
        engine.dispose()


def _make_user(run: Run[object], username: str, role: str = "cashier") -> service.User:
    user = run(
        lambda conn: service.create_user(
            conn, username=username, password=PASSWORD, role=role, stores=STORES
        )
    )
    assert isinstance(user, service.User)
    return user


# --- Users and login ----------------------------------------------------------------------


def test_a_created_user_signs_in_with_the_password(run: Run[object], settings: Settings) -> None:
    user = run(
        lambda conn: service.create_user(
            conn,
            username="Thandar",
            password=PASSWORD,
            role="manager",
            stores=STORES,
            display_name="Daw Thandar",
        )
    )
    assert isinstance(user, service.User)
    assert (user.username, user.display_name, user.role, user.active) == (
        "thandar",
        "Daw Thandar",
        "manager",
        True,
    )
    stored = _user_row(settings, "thandar")["password_hash"]
    assert isinstance(stored, str) and stored.startswith("$argon2id$") and PASSWORD not in stored

    signed_in = run(
        lambda conn: service.authenticate(conn, username=" THANDAR ", password=PASSWORD)
    )
    assert signed_in == user

    with pytest.raises(UserExists, match="taken"):
        run(
            lambda conn: service.create_user(
                conn, username="thandar", password=PASSWORD, role="admin", stores=STORES
            )
        )


def test_a_wrong_password_fails_and_a_success_resets_the_count(
    run: Run[object], settings: Settings
) -> None:
    _make_user(run, "kyaw")
    with pytest.raises(LoginFailed, match="wrong username or password"):
        run(lambda conn: service.authenticate(conn, username="kyaw", password="not-the-one-1"))
    assert (_throttle(settings, "kyaw") or {})["failures"] == 1
    run(lambda conn: service.authenticate(conn, username="kyaw", password=PASSWORD))
    assert _throttle(settings, "kyaw") is None


def test_five_failures_hold_the_address_back_for_30_s_then_it_opens_again(
    run: Run[object], settings: Settings
) -> None:
    _make_user(run, "lockme")
    t0 = utcnow()

    def attempt(password: str, after: float, client: str = "10.0.0.7") -> object:
        return run(
            lambda conn: service.authenticate(
                conn,
                username="lockme",
                password=password,
                client=client,
                now=t0 + timedelta(seconds=after),
            )
        )

    for n in range(4):
        with pytest.raises(LoginFailed):
            attempt("wrong-password-x", n)
    with pytest.raises(LoginLocked) as locked:
        attempt("wrong-password-x", 4)
    assert locked.value.retry_after_seconds == 30

    # From that address even the right password is refused, and no argon2 work is spent.
    with pytest.raises(LoginLocked) as still:
        attempt(PASSWORD, 14)
    assert still.value.retry_after_seconds == 20
    assert (_throttle(settings, "lockme", "10.0.0.7") or {})["failures"] == 5

    # The person at the shop's own counter is not kept out by a guesser elsewhere.
    assert isinstance(attempt(PASSWORD, 15, client="192.168.1.20"), service.User)

    # After the window, one more failure holds it back for twice as long...
    with pytest.raises(LoginLocked) as again:
        attempt("wrong-password-x", 35)
    assert again.value.retry_after_seconds == 60

    # ...and once that has passed the right password opens it and clears the count.
    user = attempt(PASSWORD, 96)
    assert isinstance(user, service.User)
    assert _throttle(settings, "lockme", "10.0.0.7") is None


def test_parallel_guesses_wait_for_each_other_and_are_not_all_checked(
    settings: Settings, run: Run[object]
) -> None:
    """Twelve wrong guesses at once: the block the fifth earns stops the other seven
    before their passwords are checked, so they are neither counted nor tried."""
    _make_user(run, "racer")

    async def storm() -> list[str]:
        engine = make_async_engine(settings)
        try:
            outcomes = await asyncio.gather(
                *(
                    service.check_login(
                        engine, username="racer", password=f"guess-{n}-x", client="10.9.9.9"
                    )
                    for n in range(12)
                ),
                return_exceptions=True,
            )
        finally:
            await engine.dispose()
        return [type(outcome).__name__ for outcome in outcomes]

    outcomes = asyncio.run(storm())
    assert sorted(outcomes) == ["LoginFailed"] * 4 + ["LoginLocked"] * 8
    throttle = _throttle(settings, "racer", "10.9.9.9") or {}
    assert throttle["failures"] == 5  # the seven blocked guesses were never evaluated


def test_an_unknown_name_is_held_back_alike(run: Run[object]) -> None:
    """A 429 must not tell a guesser which usernames exist."""
    for _ in range(4):
        with pytest.raises(LoginFailed):
            run(lambda conn: service.authenticate(conn, username="ghost", password="nope-nope-1"))
    with pytest.raises(LoginLocked):
        run(lambda conn: service.authenticate(conn, username="ghost", password="nope-nope-1"))


def test_an_admin_unlocks_a_person_from_every_address(run: Run[object], settings: Settings) -> None:
    _make_user(run, "forgetful")
    for client in ("10.1.1.1", "10.1.1.2"):
        for _ in range(5):
            with pytest.raises((LoginFailed, LoginLocked)):
                run(
                    lambda conn, c=client: service.authenticate(
                        conn, username="forgetful", password="wrong-one-123", client=c
                    )
                )
    (listed,) = [u for u in run(service.list_users) if u.username == "forgetful"]
    assert listed.locked_until is not None
    assert unlock_user_sync(settings, username="Forgetful") == 2
    assert unlock_user_sync(settings, username="nobody-here") is None
    user = run(
        lambda conn: service.authenticate(
            conn, username="forgetful", password=PASSWORD, client="10.1.1.1"
        )
    )
    assert isinstance(user, service.User)


def test_an_unknown_user_fails_alike_and_costs_the_same_argon2_work(run: Run[object]) -> None:
    _make_user(run, "timing")

    async def timed(conn: AsyncConnection, username: str) -> float:
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            with pytest.raises(LoginFailed, match=r"^wrong username or password$"):
                await service.authenticate(conn, username=username, password="guess-guess-1")
            best = min(best, time.perf_counter() - started)
        return best

    known = run(lambda conn: timed(conn, "timing"))
    unknown = run(lambda conn: timed(conn, "nobody-here"))
    assert isinstance(known, float) and isinstance(unknown, float)
    # Both are dominated by one argon2 verification (tens of ms); a missing user is not
    # answered from the database alone (well under a millisecond).
    assert unknown > 0.5 * known, (unknown, known)


def test_a_deactivated_user_cannot_sign_in_and_loses_its_sessions(run: Run[object]) -> None:
    user = _make_user(run, "leaver")
    token = run(lambda conn: service.start_session(conn, user_id=user.id))
    assert isinstance(token, str)
    assert run(lambda conn: service.set_user_active(conn, username="leaver", active=False))
    assert run(lambda conn: service.session_user(conn, token=token)) is None
    with pytest.raises(LoginFailed, match="disabled"):
        run(lambda conn: service.authenticate(conn, username="leaver", password=PASSWORD))
    assert not run(lambda conn: service.set_user_active(conn, username="ghost", active=True))
    listed = run(service.list_users)
    assert isinstance(listed, list)
    assert [u.active for u in listed if u.username == "leaver"] == [False]


# --- Sessions -----------------------------------------------------------------------------


def test_a_session_resolves_until_it_expires_or_ends(run: Run[object], settings: Settings) -> None:
    user = _make_user(run, "sessions")
    t0 = utcnow()
    token = run(
        lambda conn: service.start_session(conn, user_id=user.id, ttl=timedelta(hours=12), now=t0)
    )
    assert isinstance(token, str) and len(token) >= 43

    engine = make_sync_engine(settings)
    with engine.connect() as conn:
        stored = conn.execute(select(login_sessions).where(login_sessions.c.user_id == user.id))
        row = stored.mappings().one()
    assert row["token_hash"] == service.sha256_hex(token) != token

    def seen_at(after: timedelta) -> object:
        return run(lambda conn: service.session_user(conn, token=token, now=t0 + after))

    mine = select(login_sessions.c.last_seen_at).where(login_sessions.c.user_id == user.id)

    assert seen_at(timedelta(seconds=30)) == user
    with engine.connect() as conn:
        last_seen = conn.scalar(mine)
    assert last_seen == row["last_seen_at"]  # not written more than once a minute
    assert seen_at(timedelta(minutes=5)) == user
    with engine.connect() as conn:
        assert conn.scalar(mine) == t0 + timedelta(minutes=5)

    assert run(lambda conn: service.session_user(conn, token=token + "x")) is None
    assert seen_at(timedelta(hours=12, seconds=1)) is None  # expired, and removed
    assert seen_at(timedelta(minutes=6)) is None
    engine.dispose()

    other = run(lambda conn: service.start_session(conn, user_id=user.id))
    assert isinstance(other, str)
    assert run(lambda conn: service.session_user(conn, token=other)) == user
    run(lambda conn: service.end_session(conn, token=other))
    assert run(lambda conn: service.session_user(conn, token=other)) is None


# --- API keys -----------------------------------------------------------------------------


def test_an_api_key_resolves_with_its_scopes_until_revoked(run: Run[object]) -> None:
    created = run(
        lambda conn: service.create_api_key(
            conn,
            name="till sync",
            scopes=["sales:read", "stock:read"],
            stores=STORES,
            created_by="user:admin",
        )
    )
    assert isinstance(created, tuple)
    api_key, key = created
    assert key.startswith(f"pos_{api_key.prefix}_")
    assert api_key.scopes == ["sales:read", "stock:read"]
    assert api_key.last_used_at is None and api_key.revoked_at is None

    resolved = run(lambda conn: service.resolve_api_key(conn, key=key))
    assert isinstance(resolved, service.ApiKey)
    assert (resolved.prefix, resolved.scopes) == (api_key.prefix, api_key.scopes)
    assert resolved.last_used_at is not None

    forged = f"pos_{api_key.prefix}_" + "A" * 43  # right prefix, wrong secret
    assert run(lambda conn: service.resolve_api_key(conn, key=forged)) is None
    assert run(lambda conn: service.resolve_api_key(conn, key="garbage")) is None

    assert run(lambda conn: service.revoke_api_key(conn, prefix=api_key.prefix, by="user:boss"))
    assert run(lambda conn: service.resolve_api_key(conn, key=key)) is None  # at once
    assert not run(lambda conn: service.revoke_api_key(conn, prefix=api_key.prefix, by="user:boss"))
    listed = run(service.list_api_keys)
    assert isinstance(listed, list)
    assert [k.revoked_at is not None for k in listed if k.prefix == api_key.prefix] == [True]

    entries = run(lambda conn: service.list_audit(conn, limit=5))
    assert isinstance(entries, list)
    assert any(
        (e.actor, e.action, e.target) == ("user:boss", "apikey.revoked", f"apikey:{api_key.prefix}")
        for e in entries
    )


def test_an_api_key_with_unknown_scopes_is_refused(run: Run[object]) -> None:
    with pytest.raises(ValueError, match="unknown scope"):
        run(
            lambda conn: service.create_api_key(
                conn,
                name="bad",
                scopes=["sales:read", "everything"],
                stores=STORES,
                created_by="user:admin",
            )
        )


# --- Audit log ----------------------------------------------------------------------------


def test_audit_rows_are_listed_newest_first_and_page_backwards(run: Run[object]) -> None:
    async def write(conn: AsyncConnection) -> None:
        for n in range(3):
            await service.audit(
                conn,
                actor="user:thandar",
                action="sale.completed",
                target=f"sale:S-{n}",
                details={"total": 45000 * (n + 1), "lines": n + 1},
            )
        await service.audit(conn, actor="system", action="test.marker")

    run(write)
    newest = run(lambda conn: service.list_audit(conn, limit=4))
    assert isinstance(newest, list)
    assert [e.action for e in newest] == ["test.marker"] + ["sale.completed"] * 3
    assert [e.target for e in newest[1:]] == ["sale:S-2", "sale:S-1", "sale:S-0"]
    assert newest[1].details == {"lines": 3, "total": 135000}
    assert newest[0].details is None and newest[0].actor == "system"
    ids = [e.id for e in newest]
    assert ids == sorted(ids, reverse=True)

    page = run(lambda conn: service.list_audit(conn, limit=2, before_id=newest[1].id))
    assert isinstance(page, list)
    assert [e.target for e in page] == ["sale:S-1", "sale:S-0"]


# --- posctl helpers -----------------------------------------------------------------------


def test_posctl_makes_a_user_and_a_key_that_the_app_accepts(
    run: Run[object], settings: Settings
) -> None:
    create_user_sync(settings, username="owner", password=PASSWORD, role="admin")
    with pytest.raises(UserExists):
        create_user_sync(settings, username="owner", password=PASSWORD, role="admin")
    user = run(lambda conn: service.authenticate(conn, username="owner", password=PASSWORD))
    assert isinstance(user, service.User) and user.role == "admin"

    key = create_api_key_sync(settings, name="nightly export", scopes="reports:read sales:read")
    resolved = run(lambda conn: service.resolve_api_key(conn, key=key))
    assert isinstance(resolved, service.ApiKey)
    assert (resolved.created_by, resolved.scopes) == ("posctl", ["reports:read", "sales:read"])

    engine = make_sync_engine(settings)
    with engine.connect() as conn:
        assert conn.scalar(
            select(api_keys.c.key_hash).where(api_keys.c.prefix == resolved.prefix)
        ) == service.sha256_hex(key)
    engine.dispose()
    entries = run(lambda conn: service.list_audit(conn, limit=3))
    assert isinstance(entries, list)
    assert {"user.created", "apikey.created"} <= {e.action for e in entries}


def test_the_last_active_admin_cannot_be_deactivated(run: Run[object], settings: Settings) -> None:
    _make_user(run, "chief-a", role="admin")
    _make_user(run, "chief-b", role="admin")
    engine = make_sync_engine(settings)
    try:  # every other admin of this module's shop has left
        with engine.begin() as conn:
            conn.execute(
                update(users)
                .where(users.c.role == "admin", users.c.username.not_in(["chief-a", "chief-b"]))
                .values(active=False)
            )
    finally:
        engine.dispose()
    assert run(lambda conn: service.set_user_active(conn, username="chief-b", active=False))
    with pytest.raises(service.LastAdmin, match="last active admin"):
        run(lambda conn: service.set_user_active(conn, username="CHIEF-A", active=False))
    assert _user_row(settings, "chief-a")["active"]
    # Another admin first, and then chief-a may go.
    assert run(lambda conn: service.set_user_active(conn, username="chief-b", active=True))
    assert run(lambda conn: service.set_user_active(conn, username="chief-a", active=False))
