"""The audit log (owner): filter by staff, action and Shanghai date; CSV export."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from flask import render_template, request

from app.catalog import editing, inventory, photos, product_csv, stock_csv
from app.core.clock import SHANGHAI, to_shanghai
from app.extensions import db
from app.merchants import audit
from app.merchants.models import Staff
from app.merchants.permissions import Area
from app.web.console import bp
from app.web.console.guard import console_view, scope
from app.web.console.listing import csv_response, page_of

ACTIONS = ("store.create", "store.update", "store.pause", "store.resume", "staff.create", "staff.reset_password",
           "staff.bind", "staff.disable", "staff.enable", "key.create", "key.revoke", "settings.update")
ACTIONS += editing.AUDIT_ACTIONS + photos.AUDIT_ACTIONS + inventory.AUDIT_ACTIONS + stock_csv.AUDIT_ACTIONS \
    + product_csv.AUDIT_ACTIONS


def _day(name: str) -> datetime | None:
    try:
        day = date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None
    return datetime.combine(day, datetime.min.time(), tzinfo=SHANGHAI)


def _query():
    staff_id = request.args.get("staff_id", "")
    until = _day("until")
    return audit.events(scope(), staff_id=int(staff_id) if staff_id.isdigit() else None,
                        action=request.args.get("action") or None, since=_day("since"),
                        until=until + timedelta(days=1) if until else None)


def _names() -> dict[int, str]:
    return dict(db.session.execute(scope().select(Staff, Staff.id, Staff.name)).all())


@bp.get("/audit")
@console_view(Area.AUDIT)
def audit_log():
    return render_template("console/audit.html", page=page_of(_query(), "created_at", True),
                           names=_names(), actions=ACTIONS, to_shanghai=to_shanghai)


@bp.get("/audit.csv")
@console_view(Area.AUDIT)
def audit_csv():
    names = _names()
    rows = db.session.execute(_query()).scalars()
    return csv_response("audit.csv", ["time", "staff", "role", "action", "object", "object_id", "before", "after", "ip"],
                        ([f"{to_shanghai(e.created_at):%Y-%m-%d %H:%M:%S}", names.get(e.staff_id, ""), e.role,
                          e.action, e.object_type, e.object_id, _json(e.before), _json(e.after), e.ip]
                         for e in rows))


def _json(value) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)
