"""The top bar: the pages each role may open. `require_role` puts the signed-in person's
list on the request; the templates only show it, so templating needs nothing from auth."""

from __future__ import annotations

from pos_app.auth.roles import Role, role_allows
from pos_app.i18n import N_

# The top bar's pages, each with the role it needs: a person sees only what opens.
# Labels are translated where the top bar shows them.
NAV_PAGES = [
    ("/", N_("Counter"), Role.cashier),
    ("/counter/shift", N_("Shift"), Role.cashier),
    ("/manager/today", N_("Today"), Role.manager),
    ("/manager/dashboard", N_("Sales"), Role.manager),
    ("/manager/top-products", N_("Top products"), Role.manager),
    ("/manager/payments", N_("Payments"), Role.manager),
    ("/manager/tax", N_("Tax"), Role.manager),
    ("/manager/shifts", N_("Shifts"), Role.manager),
    ("/manager/low-stock", N_("Low stock"), Role.manager),
    ("/manager/refill-plan", N_("Refill plan"), Role.manager),
    ("/manager/products", N_("Products"), Role.manager),
    ("/manager/purchase-orders", N_("Orders"), Role.manager),
    ("/manager/stock-movements", N_("Receive"), Role.manager),
    ("/manager/transfers", N_("Transfers"), Role.manager),
    ("/manager/pipeline", N_("Pipeline"), Role.manager),
    ("/admin/audit", N_("Admin"), Role.admin),
]


def pages_for(role: Role | str) -> list[tuple[str, str]]:
    """(href, label) of the pages this role may open."""
    return [(href, label) for href, label, needed in NAV_PAGES if role_allows(role, needed)]
