"""Synchronous helpers for `posctl`: the first admin and keys for integrations, made
before the app runs. The checks and hashing are service.py's; only the I/O differs."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, insert, select
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.exc import IntegrityError

from pos_app.auth.pins import hash_pin
from pos_app.auth.roles import Role, role_allows
from pos_app.auth.service import UserExists, audit_values, new_api_key_values, new_user_values
from pos_app.auth.tables import api_keys, audit_log, login_throttles, user_pins, users
from pos_app.db.engine import make_sync_engine
from pos_app.settings import Settings


def create_user_sync(
    settings: Settings,
    *,
    username: str,
    password: str,
    role: Role | str,
    locale: str | None = None,
) -> None:
    """`locale` None: the shop's language, as for anyone new."""
    values = new_user_values(
        username=username, password=password, role=role, locale=locale or settings.shop_locale
    )
    engine = make_sync_engine(settings)
    try:
        with engine.begin() as conn:
            try:
                conn.execute(insert(users).values(values))
            except IntegrityError:
                raise UserExists(f"the username {values['username']!r} is taken") from None
            audit_row = audit_values(
                actor="system",
                action="user.created",
                target=f"user:{values['username']}",
                details={"role": values["role"], "via": "posctl"},
            )
            conn.execute(insert(audit_log).values(audit_row))
    finally:
        engine.dispose()


def unlock_user_sync(settings: Settings, *, username: str) -> int | None:
    """Forget the user's failed sign-ins from every address; None if there is no such user."""
    name = username.strip().lower()
    engine = make_sync_engine(settings)
    try:
        with engine.begin() as conn:
            if conn.scalar(select(users.c.id).where(users.c.username == name)) is None:
                return None
            addresses = conn.execute(
                delete(login_throttles).where(login_throttles.c.username == name)
            ).rowcount
            audit_row = audit_values(
                actor="system",
                action="user.unlocked",
                target=f"user:{name}",
                details={"addresses": addresses, "via": "posctl"},
            )
            conn.execute(insert(audit_log).values(audit_row))
            return int(addresses)
    finally:
        engine.dispose()


def create_api_key_sync(
    settings: Settings, *, name: str, scopes: Iterable[str] | str, created_by: str = "posctl"
) -> str:
    """Returns the full key: print it once, only its hash is stored."""
    values, key = new_api_key_values(name=name, scopes=scopes, created_by=created_by)
    engine = make_sync_engine(settings)
    try:
        with engine.begin() as conn:
            conn.execute(insert(api_keys).values(values))
            audit_row = audit_values(
                actor="system",
                action="apikey.created",
                target=f"apikey:{values['prefix']}",
                details={"name": values["name"], "scopes": values["scopes"], "via": "posctl"},
            )
            conn.execute(insert(audit_log).values(audit_row))
    finally:
        engine.dispose()
    return key


def set_pin_sync(settings: Settings, *, username: str, pin: str) -> None:
    """A manager's or admin's approval PIN (hashed; audited). ValueError says why not."""
    name = username.strip().lower()
    pin_hash = hash_pin(pin)
    engine = make_sync_engine(settings)
    try:
        with engine.begin() as conn:
            row = conn.execute(
                select(users.c.id, users.c.role).where(users.c.username == name)
            ).one_or_none()
            if row is None:
                raise ValueError(f"no user {name!r}")
            if not role_allows(row.role, Role.manager):
                raise ValueError("only managers and admins approve with a PIN")
            upsert = mysql_insert(user_pins).values(user_id=row.id, pin_hash=pin_hash)
            conn.execute(upsert.on_duplicate_key_update(pin_hash=pin_hash))
            audit_row = audit_values(
                actor="system",
                action="user.pin_set",
                target=f"user:{name}",
                details={"via": "posctl"},
            )
            conn.execute(insert(audit_log).values(audit_row))
    finally:
        engine.dispose()
