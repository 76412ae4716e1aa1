"""Sign-ins for the demo shop: one user per role, with random passwords.

The passwords are made on the first `posctl seed demo` and kept in the stack's state
folder (readable by this OS user only), never in the repository. Production mode makes
no demo users: there, `posctl user create` makes the first admin."""

from __future__ import annotations

import os
import secrets

from pos_app.auth.cli import create_user_sync
from pos_app.auth.service import UserExists
from pos_app.settings import Settings

DEMO_ROLES = ("cashier", "manager", "admin")
# The cashier works in Burmese and the manager in English, so both can be seen at once;
# the admin starts in the shop's language.
DEMO_LOCALES = {"cashier": "my", "manager": "en"}


def ensure_demo_users(settings: Settings) -> str:
    if settings.environment == "production":
        return "production mode: no demo users (make the first admin with `posctl user create`)"
    path = settings.state_dir / f"demo-users-{settings.mysql_database}.txt"
    known = (
        dict(line.split(" ", 1) for line in path.read_text().splitlines()) if path.exists() else {}
    )
    for role in DEMO_ROLES:
        if role in known:
            continue
        password = secrets.token_urlsafe(9)
        try:
            create_user_sync(
                settings,
                username=role,
                password=password,
                role=role,
                locale=DEMO_LOCALES.get(role),
            )
        except UserExists:
            continue  # made earlier with a password this file does not know
        known[role] = password
    path.parent.mkdir(parents=True, exist_ok=True)
    # Made private before the passwords go in, not after.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a file an older version left readable
    with os.fdopen(fd, "w") as out:
        out.write("".join(f"{user} {pw}\n" for user, pw in known.items()))
    lines = "\n".join(f"  {user:8} {pw}" for user, pw in known.items())
    return f"demo sign-ins (also in {path}):\n{lines}"
