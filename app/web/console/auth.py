"""Console sign-in and sign-out. Failed tries are limited per username and per client IP (app.web.auth)."""
from __future__ import annotations

from flask import g, redirect, render_template, request, session, url_for

from app.core.clock import now_utc
from app.core.database import rollback
from app.core.errors import DomainError
from app.merchants.models import Role
from app.web.auth import check_staff_password, sign_in_staff
from app.web.console import bp
from app.web.console.guard import SEEN_KEY, CashierNotHere, csrf_token


IDLE = DomainError(zh="长时间未操作，已退出登录，请重新登录。", en="Signed out after a period of inactivity; sign in again.")


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/console") and not target.startswith("//"):
        return target
    return url_for("console.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    error, status, counter = None, 200, False
    if request.method == "GET" and request.args.get("idle"):
        error = IDLE.message(g.lang)
    if request.method == "POST":
        try:
            staff = check_staff_password(request.form.get("username", ""), request.form.get("password", ""))
            if staff.role is Role.CASHIER:
                raise CashierNotHere()
            sign_in_staff(staff)
            session[SEEN_KEY] = int(now_utc().timestamp())
            csrf_token()
            return redirect(_safe_next(request.args.get("next")))
        except DomainError as exc:
            rollback()
            error, status, counter = exc.message(g.lang), exc.status, isinstance(exc, CashierNotHere)
    return render_template("console/login.html", error=error, counter=counter), status


@bp.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("console.login"))
