"""Console sign-in and sign-out. Failed tries are limited per username and per client IP."""
from __future__ import annotations

from flask import current_app, g, redirect, render_template, request, session, url_for

from app.core.clock import iso, now_utc, to_shanghai
from app.core.database import rollback
from app.core.errors import DomainError, TooManyTries
from app.extensions import allowance
from app.merchants.models import Role
from app.merchants.service import authenticate_staff
from app.web.auth import sign_in_staff
from app.web.console import bp
from app.web.console.guard import SEEN_KEY, CashierNotHere, csrf_token


IDLE = DomainError(zh="长时间未操作，已退出登录，请重新登录。", en="Signed out after a period of inactivity; sign in again.")


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/console") and not target.startswith("//"):
        return target
    return url_for("console.home")


def _checks(username: str) -> list[tuple[str, str, str]]:
    cfg = current_app.config
    return [(cfg["CONSOLE_LOGIN_LIMITS"], "console-login", f"user:{username.strip().lower()}"),
            (cfg["CONSOLE_LOGIN_LIMITS_IP"], "console-login", f"ip:{request.remote_addr or ''}")]


def _refuse_if_limited(username: str) -> None:
    used_up = allowance.first_used_up(_checks(username))
    if used_up is not None:
        raise TooManyTries(zh="登录失败次数过多，请在 {retry_at_local} 后再试。",
                           en="Too many failed sign-ins; try again after {retry_at_local}.",
                           limit=str(used_up.item), retry_at=iso(used_up.reset_at),
                           retry_at_local=to_shanghai(used_up.reset_at).strftime("%H:%M:%S"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    error, status, counter = None, 200, False
    if request.method == "GET" and request.args.get("idle"):
        error = IDLE.message(g.lang)
    if request.method == "POST":
        username = request.form.get("username", "")
        try:
            _refuse_if_limited(username)
            try:
                staff = authenticate_staff(username, request.form.get("password", ""))
            except DomainError:
                allowance.hit_all(_checks(username))
                raise
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
