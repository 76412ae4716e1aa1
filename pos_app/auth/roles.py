"""Roles for people, scopes for the REST API, and which role carries which scopes."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    cashier = "cashier"
    manager = "manager"
    admin = "admin"


SALES_WRITE = "sales:write"
SALES_READ = "sales:read"
STOCK_READ = "stock:read"
CATALOG_READ = "catalog:read"
CATALOG_WRITE = "catalog:write"  # add and edit products, prices, import the catalogue
REPORTS_READ = "reports:read"
INVENTORY_WRITE = "inventory:write"
PURCHASING_READ = "purchasing:read"  # suppliers and purchase orders
PURCHASING_WRITE = "purchasing:write"  # add suppliers, make, order, receive, cancel orders
EVENTS_READ = "events:read"
USERS_ADMIN = "users:admin"
APIKEYS_ADMIN = "apikeys:admin"
AUDIT_READ = "audit:read"
RETURNS_WRITE = "returns:write"  # refunds, a manager's task: sales:write does not allow them
SETTINGS_ADMIN = "settings:admin"  # the shop's settings, e.g. its commercial tax

ALL_SCOPES: frozenset[str] = frozenset(
    {
        SALES_WRITE,
        SALES_READ,
        STOCK_READ,
        CATALOG_READ,
        CATALOG_WRITE,
        REPORTS_READ,
        INVENTORY_WRITE,
        PURCHASING_READ,
        PURCHASING_WRITE,
        EVENTS_READ,
        USERS_ADMIN,
        APIKEYS_ADMIN,
        AUDIT_READ,
        RETURNS_WRITE,
        SETTINGS_ADMIN,
    }
)

_CASHIER = frozenset({SALES_WRITE, SALES_READ, STOCK_READ, CATALOG_READ})
_MANAGER = _CASHIER | {
    REPORTS_READ,
    INVENTORY_WRITE,
    EVENTS_READ,
    CATALOG_WRITE,
    RETURNS_WRITE,
    PURCHASING_READ,
    PURCHASING_WRITE,
}

ROLE_SCOPES: dict[Role, frozenset[str]] = {
    Role.cashier: _CASHIER,
    Role.manager: _MANAGER,
    Role.admin: ALL_SCOPES,
}

# Each role can do everything the roles before it can.
_RANK = {Role.cashier: 0, Role.manager: 1, Role.admin: 2}


def scopes_for(role: Role | str) -> frozenset[str]:
    return ROLE_SCOPES[Role(role)]


def role_allows(role: Role | str, needed: Role | str) -> bool:
    """Whether `role` may open what needs `needed`: an admin may do a manager's work."""
    return _RANK[Role(role)] >= _RANK[Role(needed)]
