"""The top bar: the pages each role may open. `require_role` puts the signed-in person's
list on the request; the templates only show it, so templating needs nothing from auth."""

from __future__ import annotations

from pos_app.auth.roles import Role, role_allows

# The top bar's pages, each with the role it needs: a person sees only what opens.
NAV_PAGES = [
    ("/", "Counter", Role.cashier),
    ("/counter/shift", "Shift", Role.cashier),
    ("/manager/today", "Today", Role.manager),
    ("/manager/dashboard", "Sales", Role.manager),
    ("/manager/top-products", "Top products", Role.manager),
    ("/manager/payments", "Payments", Role.manager),
    ("/manager/tax", "Tax", Role.manager),
    ("/manager/shifts", "Shifts", Role.manager),
    ("/manager/low-stock", "Low stock", Role.manager),
    ("/manager/refill-plan", "Refill plan", Role.manager),
    ("/manager/stock-movements", "Receive", Role.manager),
    ("/manager/pipeline", "Pipeline", Role.manager),
    ("/admin/audit", "Admin", Role.admin),
]


def pages_for(role: Role | str) -> list[tuple[str, str]]:
    """(href, label) of the pages this role may open."""
    return [(href, label) for href, label, needed in NAV_PAGES if role_allows(role, needed)]
