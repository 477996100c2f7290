"""The cashier's counter: sign in, scan or type, verify, redeem, undo, today's list."""
from __future__ import annotations

import secrets

import sqlalchemy as sa
from flask import Blueprint, g, jsonify, redirect, render_template, request, session, url_for

from app.core.database import rollback
from app.core.errors import DomainError, Forbidden
from app.extensions import db
from app.merchants.models import Merchant, Role, Staff, Store
from app.vouchers import service
from app.vouchers.guard import GuessScope
from app.web import counter_actions
from app.web.auth import check_staff_password, current_staff, sign_in_staff, staff_required

bp = Blueprint("counter", __name__)

COUNTER_ROLES = (Role.CASHIER, Role.STORE_MANAGER)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/counter") and not target.startswith("//"):
        return target
    return url_for("counter.page")


@bp.route("/login", methods=["GET", "POST"])
def login():
    error, status = None, 200
    if request.method == "POST":
        try:
            staff = check_staff_password(request.form.get("username", ""), request.form.get("password", ""))
            if staff.role not in COUNTER_ROLES:
                raise Forbidden(zh="只有绑定门店的收银员或店长可以登录收银台。",
                                en="Only cashiers and store managers bound to a store can use the counter.")
            sign_in_staff(staff)
            session["device"] = secrets.token_hex(8)
            return redirect(_safe_next(request.args.get("next")))
        except DomainError as exc:
            rollback()
            error, status = exc.message(g.lang), (429 if exc.status == 429 else 401)
    return render_template("counter/login.html", error=error), status


@bp.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("counter.login"))


def _actor() -> service.Actor:
    staff: Staff = current_staff()
    return service.Actor(merchant_id=staff.merchant_id, store_id=staff.store_id, staff_id=staff.id,
                         device_id=session.get("device", ""))


def _scope(actor: service.Actor) -> GuessScope:
    return GuessScope(device=f"staff:{actor.staff_id}:{actor.device_id}", store_id=actor.store_id,
                      ip=request.remote_addr or "")


@bp.get("/")
@staff_required(*COUNTER_ROLES)
def page():
    staff = current_staff()
    store = db.session.get(Store, staff.store_id)
    merchant = db.session.get(Merchant, staff.merchant_id)
    return render_template("counter/page.html", staff=staff, store=store, merchant=merchant)


@bp.post("/verify")
@staff_required(*COUNTER_ROLES)
def verify():
    actor = _actor()
    return jsonify(counter_actions.verify(actor, _scope(actor)))


@bp.post("/redeem")
@staff_required(*COUNTER_ROLES)
def redeem():
    actor = _actor()
    return jsonify(counter_actions.redeem(actor, _scope(actor)))


@bp.post("/redemptions/<id:redemption_id>/undo")
@staff_required(*COUNTER_ROLES)
def undo(redemption_id: int):
    return jsonify(counter_actions.undo(_actor(), redemption_id))


@bp.get("/today")
@staff_required(*COUNTER_ROLES)
def today():
    staff = current_staff()
    rows = service.todays_redemptions(staff.store_id)
    staff_ids = {r.staff_id for r in rows if r.staff_id}
    staff_names = dict(db.session.execute(
        sa.select(Staff.id, Staff.name).where(Staff.id.in_(staff_ids))).all()) if staff_ids else {}
    html = render_template("counter/_today.html", rows=rows, staff_names=staff_names,
                           total=sum(r.uses for r in rows if r.undone_at is None))
    return html
