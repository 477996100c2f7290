"""Staff: the owner manages everyone; a store manager the cashiers of their own store (app.merchants.scope)."""
from __future__ import annotations

from flask import g, redirect, render_template, request, url_for

from app.core.database import rollback
from app.core.errors import BadRequest, Conflict

from app.core.schemas import parse
from app.extensions import db
from app.merchants import console
from app.merchants.models import ROLE_LABELS, Role, Staff
from app.merchants.permissions import Action, Area, roles_manageable_by
from app.merchants.schemas import BindForm, PasswordForm, StaffForm
from app.web.console import bp
from app.web.console.guard import console_view, scope
from app.web.console.listing import csv_response, paginate, visible_stores

SORTS = {"id": Staff.id, "name": Staff.name, "username": Staff.username, "role": Staff.role,
         "active": Staff.active}


def _filtered():
    query = scope().select(Staff)
    q = request.args.get("q", "").strip()
    if q:
        query = query.where(Staff.name.contains(q) | Staff.username.contains(q.lower()))
    role = request.args.get("role")
    if role in {r.value for r in Role}:
        query = query.where(Staff.role == Role(role))
    return query


def _form_data() -> dict:
    return {k: v for k, v in request.form.items() if k != "csrf_token"}


@bp.get("/staff")
@console_view(Area.STAFF)
def staff_list():
    stores = {s.id: s.name for s in visible_stores()}
    return render_template("console/staff.html", page=paginate(_filtered(), SORTS, "id"), stores=stores,
                           role_labels=ROLE_LABELS, roles=roles_manageable_by(scope().role))


@bp.get("/staff.csv")
@console_view(Area.STAFF)
def staff_csv():
    stores = {s.id: s.name for s in visible_stores()}
    rows = db.session.execute(_filtered().order_by(Staff.id)).scalars()
    return csv_response("staff.csv", ["id", "name", "username", "role", "store", "active"],
                        ([s.id, s.name, s.username, s.role.value, stores.get(s.store_id, ""), int(s.active)]
                         for s in rows))


@bp.route("/staff/new", methods=["GET", "POST"])
@console_view(Area.STAFF, Action.EDIT)
def staff_new():
    error, status = None, 200
    if request.method == "POST":
        try:
            created = console.create_staff(scope(), parse(StaffForm, _form_data()))
            return redirect(url_for("console.staff_detail", staff_id=created.id))
        except (BadRequest, Conflict) as exc:
            rollback()
            error, status = exc.message(g.lang), exc.status
    return render_template("console/staff_form.html", stores=visible_stores(), role_labels=ROLE_LABELS,
                           roles=roles_manageable_by(scope().role), error=error), status


@bp.get("/staff/<id:staff_id>")
@console_view(Area.STAFF)
def staff_detail(staff_id: int):
    return render_template("console/staff_detail.html", person=scope().get(Staff, staff_id),
                           stores=visible_stores(), role_labels=ROLE_LABELS, new_password=None)


@bp.post("/staff/<id:staff_id>/password")
@console_view(Area.STAFF, Action.EDIT)
def staff_password(staff_id: int):
    given = request.form.get("password", "").strip()
    password = parse(PasswordForm, {"password": given}).password if given else None
    person, shown = console.reset_password(scope(), staff_id, password)
    # Shown once, on this answer only: never stored in clear nor put in a URL.
    return render_template("console/staff_detail.html", person=person, stores=visible_stores(), role_labels=ROLE_LABELS,
                           new_password=None if given else shown, password_set=bool(given))


@bp.post("/staff/<id:staff_id>/bind")
@console_view(Area.STAFF, Action.EDIT)
def staff_bind(staff_id: int):
    scope().get(Staff, staff_id)  # someone this caller can see, before reading the form
    console.bind_staff(scope(), staff_id, parse(BindForm, _form_data()).store_id)
    return redirect(url_for("console.staff_detail", staff_id=staff_id))


@bp.post("/staff/<id:staff_id>/disable")
@console_view(Area.STAFF, Action.EDIT)
def staff_disable(staff_id: int):
    console.set_staff_active(scope(), staff_id, False)
    return redirect(url_for("console.staff_detail", staff_id=staff_id))


@bp.post("/staff/<id:staff_id>/enable")
@console_view(Area.STAFF, Action.EDIT)
def staff_enable(staff_id: int):
    console.set_staff_active(scope(), staff_id, True)
    return redirect(url_for("console.staff_detail", staff_id=staff_id))
