"""The one tenant-scoping helper: every console query goes through a `Scope`.

A Scope is who is acting (merchant, staff, role, store for store-bound roles, client IP). `select()` adds the
merchant's filter (and, for a store manager, their store's) to a query; `get()` loads one row by id within
it, or raises NotFound: another merchant's row (or another store's, for a manager) is indistinguishable
from a missing one.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, TypeVar

import sqlalchemy as sa

from app.core.errors import NotFound
from app.extensions import db
from app.merchants.models import ApiKey, AuditEvent, Role, Staff, Store
from app.merchants.permissions import STORE_SCOPED_ROLES, roles_manageable_by

T = TypeVar("T")

# model -> the extra filters for a store-bound role (a store manager), given the scope. Every model the
# console reads is registered here (other domains register theirs with `register`); a model with a merchant_id
# and no rule is refused, so a new list cannot forget its tenant filter.
StoreRule = Callable[["Scope"], list[sa.ColumnElement[bool]]]
_RULES: dict[Any, StoreRule] = {}


def register(model: Any, store_rule: StoreRule | None = None) -> None:
    """Let the console read `model` (which has a merchant_id) through a Scope. `store_rule` gives the filters
    that keep a store manager on their own store's rows; None: a store manager sees none of them. A rule
    returning [] lets a store manager see every row of the merchant (the catalog, say: view only)."""
    _RULES[model] = store_rule or (lambda scope: [sa.false()])


register(Store, lambda scope: [Store.id == scope.store_id])
register(Staff, lambda scope: [Staff.store_id == scope.store_id, Staff.role.in_(roles_manageable_by(scope.role))])
register(ApiKey, lambda scope: [ApiKey.store_id == scope.store_id])
register(AuditEvent)


@dataclass(frozen=True)
class Scope:
    merchant_id: int
    staff_id: int
    role: Role
    store_id: int | None = None
    ip: str = ""

    @classmethod
    def of(cls, staff: Staff, ip: str = "") -> Scope:
        return cls(merchant_id=staff.merchant_id, staff_id=staff.id, role=staff.role, store_id=staff.store_id, ip=ip)

    @property
    def store_bound(self) -> bool:
        return self.role in STORE_SCOPED_ROLES

    def where(self, model: Any) -> list[sa.ColumnElement[bool]]:
        """The filters that keep a query on `model` inside this scope."""
        rule = _RULES.get(model)
        if rule is None:
            raise TypeError(f"{model.__name__} is not scoped for the console (app.merchants.scope.register)")
        clauses: list[sa.ColumnElement[bool]] = [model.merchant_id == self.merchant_id]
        if self.store_bound:
            clauses += rule(self)
        return clauses

    def select(self, model: Any, *columns: Any) -> sa.Select:
        return sa.select(*(columns or (model,))).where(*self.where(model))

    def get(self, model: type[T], object_id: int) -> T:
        row = db.session.execute(self.select(model).where(model.id == object_id)).scalar_one_or_none()
        if row is None:
            raise NotFound()
        return row
