"""Who may do what in the merchant console: one table, area × action → roles (issue #10's matrix).

A store manager is store-scoped: whatever they may see or change is limited to their own store (and, for
staff, to that store's cashiers) by app.merchants.scope. A cashier has no console area: the counter is theirs.
"""
from __future__ import annotations

import enum

from app.merchants.models import Role

OWNER, OPERATOR, MANAGER = Role.OWNER, Role.OPERATOR, Role.STORE_MANAGER


class Area(str, enum.Enum):
    HOME = "home"
    STORES = "stores"
    STAFF = "staff"
    KEYS = "keys"
    SETTINGS = "settings"
    AUDIT = "audit"
    PRODUCTS = "products"  # categories, products, SKUs, prices, photos, publish
    STOCK = "stock"  # stock per store, CSV import and export
    ORDERS = "orders"  # search, detail, refund whole or by line
    VOUCHERS = "vouchers"  # search, events, revoke, reissue
    CAMPAIGNS = "campaigns"  # coupons, group-buys, pre-sales


class Action(str, enum.Enum):
    VIEW = "view"
    EDIT = "edit"  # create, change, disable, revoke
    PAUSE = "pause"  # stores: pause and resume taking orders


PERMISSIONS: dict[tuple[Area, Action], frozenset[Role]] = {
    (Area.HOME, Action.VIEW): frozenset({OWNER, OPERATOR, MANAGER}),
    (Area.STORES, Action.VIEW): frozenset({OWNER, OPERATOR, MANAGER}),
    (Area.STORES, Action.EDIT): frozenset({OWNER}),
    (Area.STORES, Action.PAUSE): frozenset({OWNER, MANAGER}),
    (Area.STAFF, Action.VIEW): frozenset({OWNER, MANAGER}),
    (Area.STAFF, Action.EDIT): frozenset({OWNER, MANAGER}),
    (Area.KEYS, Action.VIEW): frozenset({OWNER}),
    (Area.KEYS, Action.EDIT): frozenset({OWNER}),
    (Area.SETTINGS, Action.VIEW): frozenset({OWNER}),
    (Area.SETTINGS, Action.EDIT): frozenset({OWNER}),
    (Area.AUDIT, Action.VIEW): frozenset({OWNER}),
    (Area.PRODUCTS, Action.VIEW): frozenset({OWNER, OPERATOR, MANAGER}),
    (Area.PRODUCTS, Action.EDIT): frozenset({OWNER, OPERATOR}),
    (Area.STOCK, Action.VIEW): frozenset({OWNER, OPERATOR, MANAGER}),
    (Area.STOCK, Action.EDIT): frozenset({OWNER, OPERATOR, MANAGER}),  # a manager: their own store's
    (Area.ORDERS, Action.VIEW): frozenset({OWNER, OPERATOR, MANAGER}),
    (Area.ORDERS, Action.EDIT): frozenset({OWNER, OPERATOR, MANAGER}),  # refund; a manager: their own store's
    (Area.VOUCHERS, Action.VIEW): frozenset({OWNER, OPERATOR, MANAGER}),
    (Area.VOUCHERS, Action.EDIT): frozenset({OWNER, OPERATOR, MANAGER}),  # revoke, reissue; own store's
    (Area.CAMPAIGNS, Action.VIEW): frozenset({OWNER, OPERATOR, MANAGER}),
    (Area.CAMPAIGNS, Action.EDIT): frozenset({OWNER, OPERATOR}),
}

CONSOLE_ROLES = frozenset({OWNER, OPERATOR, MANAGER})
STORE_SCOPED_ROLES = frozenset({MANAGER})


def allowed(role: Role, area: Area, action: Action = Action.VIEW) -> bool:
    return role in PERMISSIONS.get((area, action), frozenset())


def roles_manageable_by(role: Role) -> tuple[Role, ...]:
    """Which roles of staff this role may create, reset, bind and disable."""
    if role is OWNER:
        return (Role.OWNER, Role.OPERATOR, Role.STORE_MANAGER, Role.CASHIER)
    if role is MANAGER:
        return (Role.CASHIER,)
    return ()
