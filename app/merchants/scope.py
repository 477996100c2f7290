"""The one tenant-scoping helper: every console query goes through a `Scope`.

A Scope is who is acting (merchant, staff, role, store for store-bound roles, client IP). `select()` adds the
merchant's filter (and, for a store manager, their store's) to a query; `get()` loads one row by id within
it, or raises NotFound: another merchant's row (or another store's, for a manager) is indistinguishable
from a missing one.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa

from app.core.errors import NotFound
from app.extensions import db
from app.merchants.models import ApiKey, AuditEvent, Role, Staff, Store
from app.merchants.permissions import STORE_SCOPED_ROLES, roles_manageable_by

T = TypeVar("T")

SCOPED = (Store, Staff, ApiKey, AuditEvent)  # models the console reads; each has a merchant_id


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
        if model not in SCOPED:
            raise TypeError(f"{model.__name__} is not scoped for the console")
        clauses: list[sa.ColumnElement[bool]] = [model.merchant_id == self.merchant_id]
        if self.store_bound:
            if model is Store:
                clauses.append(Store.id == self.store_id)
            elif model is Staff:
                clauses += [Staff.store_id == self.store_id, Staff.role.in_(roles_manageable_by(self.role))]
            elif model is ApiKey:
                clauses.append(ApiKey.store_id == self.store_id)
            else:
                clauses.append(sa.false())
        return clauses

    def select(self, model: Any, *columns: Any) -> sa.Select:
        return sa.select(*(columns or (model,))).where(*self.where(model))

    def get(self, model: type[T], object_id: int) -> T:
        row = db.session.execute(self.select(model).where(model.id == object_id)).scalar_one_or_none()
        if row is None:
            raise NotFound()
        return row
