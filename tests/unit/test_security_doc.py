"""docs/security.md's role table says which scopes each role adds to the one before it;
it must say what pos_app/auth/roles.py grants (returns:write is a manager's, not a
cashier's)."""

from __future__ import annotations

import re

from pos_app.auth.roles import ALL_SCOPES, Role, scopes_for
from pos_app.settings import REPO_ROOT


def test_the_role_table_names_the_scopes_each_role_adds() -> None:
    text = (REPO_ROOT / "docs" / "security.md").read_text()
    before: frozenset[str] = frozenset()
    for role in (Role.cashier, Role.manager, Role.admin):
        row = re.search(rf"^\| `{role}` \|(.*)\|$", text, re.M)
        assert row is not None, role
        named = {s for s in re.findall(r"`([a-z]+:[a-z]+)`", row.group(1)) if s in ALL_SCOPES}
        assert named == scopes_for(role) - before, role
        before = scopes_for(role)
    assert "returns:write" not in scopes_for(Role.cashier)
