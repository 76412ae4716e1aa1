"""Tables for people, their login sessions, API keys and the audit log. They live on the
shared `metadata`, so the one Alembic history covers them. Secrets are stored only as
hashes: argon2id for passwords, sha256 for session tokens and API keys (both random
and long, so a fast hash is enough)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.mysql import DATETIME

from pos_app.db.tables import NOW, metadata

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(60), nullable=False, unique=True),
    Column("display_name", String(120), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(20), nullable=False),
    Column("locale", String(8), nullable=False, server_default="en"),  # "en" or "my"
    Column("active", Boolean, nullable=False, server_default="1"),
    Column("created_at", DATETIME(fsp=3), nullable=False, server_default=NOW),
    Column("updated_at", DATETIME(fsp=3), nullable=False, server_default=NOW),
)

# A manager's or admin's approval PIN (argon2id, never stored plain): typed at the counter
# to approve a discount over the cashier's limit or a refund.
user_pins = Table(
    "user_pins",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("pin_hash", String(255), nullable=False),
    Column("updated_at", DATETIME(fsp=3), nullable=False, server_default=NOW),
)

# Failed sign-ins per username and client address: a guesser elsewhere cannot keep the
# real person out. Unknown usernames are counted alike, so a 429 tells nothing.
login_throttles = Table(
    "login_throttles",
    metadata,
    Column("username", String(60), primary_key=True),
    Column("client", String(64), primary_key=True),  # the address the attempts came from
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("blocked_until", DATETIME(fsp=3)),
    Column("updated_at", DATETIME(fsp=3), nullable=False, server_default=NOW),
)

login_sessions = Table(
    "login_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 hex of the cookie token
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", DATETIME(fsp=3), nullable=False, server_default=NOW),
    Column("expires_at", DATETIME(fsp=3), nullable=False),
    Column("last_seen_at", DATETIME(fsp=3), nullable=False, server_default=NOW),
    Index("ix_login_sessions_user_id", "user_id"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(80), nullable=False),
    Column("prefix", String(16), nullable=False, unique=True),  # public: shown in lists
    Column("key_hash", String(64), nullable=False),  # sha256 hex of the whole key
    Column("scopes", String(400), nullable=False),  # space-separated
    Column("created_by", String(60), nullable=False),
    Column("created_at", DATETIME(fsp=3), nullable=False, server_default=NOW),
    Column("revoked_at", DATETIME(fsp=3)),
    Column("last_used_at", DATETIME(fsp=3)),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("at", DATETIME(fsp=3), nullable=False, server_default=NOW),
    Column("actor", String(80), nullable=False),  # "user:<name>", "apikey:<prefix>", "system"
    Column("action", String(60), nullable=False),  # "login.failed", "apikey.created", ...
    Column("target", String(120)),
    Column("details", Text),  # JSON
    Index("ix_audit_log_at", "at"),
)
