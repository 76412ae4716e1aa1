"""The top bar: the pages a signed-in person may open. Registered with the templates by
the app (`main.create_app`), so the templating layer needs nothing from `auth`."""

from __future__ import annotations

from fastapi import Request

from pos_app.auth.roles import Role, role_allows

# The top bar's pages, each with the role it needs: a person sees only what opens.
NAV_PAGES = [
    ("/", "Counter", Role.cashier),
    ("/manager/today", "Today", Role.manager),
    ("/manager/dashboard", "Sales", Role.manager),
    ("/manager/top-products", "Top products", Role.manager),
    ("/manager/low-stock", "Low stock", Role.manager),
    ("/manager/refill-plan", "Refill plan", Role.manager),
    ("/manager/stock-movements", "Receive", Role.manager),
    ("/manager/pipeline", "Pipeline", Role.manager),
    ("/admin/audit", "Admin", Role.admin),
]


def nav_links(request: Request) -> list[tuple[str, str]]:
    """(href, label) of the pages the signed-in person may open; none when signed out.
    The role is the one `require_role` checked for this page."""
    role = getattr(request.state, "viewer_role", None)
    if role is None:
        return []
    return [(href, label) for href, label, needed in NAV_PAGES if role_allows(role, needed)]
