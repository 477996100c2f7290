"""The console's audit log: every change is recorded in the same transaction as the change itself.

`record()` adds the row (the request's commit keeps both, a rollback loses both). Rows are never updated
or deleted: a flush that tries is refused.
"""
from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, Iterable

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db
from app.merchants.models import AuditEvent
from app.merchants.scope import Scope


def summary(obj: Any, fields: Iterable[str]) -> dict[str, Any]:
    """A JSON-friendly {field: value} of `obj` (times as HH:MM, enums as their value)."""
    out: dict[str, Any] = {}
    for name in fields:
        value = getattr(obj, name)
        if isinstance(value, time):
            value = f"{value:%H:%M}"
        elif isinstance(value, (datetime, date)):
            value = value.isoformat()
        elif hasattr(value, "value"):
            value = value.value
        out[name] = value
    return out


def changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that differ, on both sides."""
    keys = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def change(scope: Scope, obj: Any, values: dict[str, Any], *, fields: Iterable[str], action: str,
           object_type: str) -> bool:
    """Sets `values` on `obj` and records what actually changed among `fields` (nothing changed: no row).
    True when something changed."""
    fields = list(fields)
    before = summary(obj, fields)
    for name, value in values.items():
        setattr(obj, name, value)
    db.session.flush()
    old, new = changed(before, summary(obj, fields))
    if new:
        record(scope, action, object_type, obj.id, before=old, after=new)
    return bool(new)


def record(scope: Scope, action: str, object_type: str, object_id: int | None, *,
           before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> AuditEvent:
    row = AuditEvent(merchant_id=scope.merchant_id, staff_id=scope.staff_id, role=scope.role.value, action=action,
                     object_type=object_type, object_id=object_id, before=before, after=after, ip=scope.ip[:45])
    db.session.add(row)
    db.session.flush()
    return row


def events(scope: Scope, *, staff_id: int | None = None, action: str | None = None,
           since: datetime | None = None, until: datetime | None = None) -> sa.Select:
    query = scope.select(AuditEvent)
    if staff_id:
        query = query.where(AuditEvent.staff_id == staff_id)
    if action:
        query = query.where(AuditEvent.action == action)
    if since is not None:
        query = query.where(AuditEvent.created_at >= since)
    if until is not None:
        query = query.where(AuditEvent.created_at < until)
    return query.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())


class AuditIsAppendOnly(RuntimeError):
    pass


@event.listens_for(Session, "before_flush")
def _append_only(session: Session, _context, _instances) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditIsAppendOnly("audit events are never changed or deleted")
