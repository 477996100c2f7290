"""Who may open a console page: signed-in staff (the counter's session scheme: staff id + a fragment of the
password hash, so a disabled account or a changed password ends the session at the next request), in a
role the permission table allows, within the idle timeout, and every form with its CSRF token."""
from __future__ import annotations

import hmac
import secrets
from functools import wraps

from flask import current_app, g, redirect, request, session, url_for

from app.core.clock import now_utc
from app.core.errors import Forbidden, Unauthorized
from app.merchants.models import Role
from app.merchants.permissions import Action, Area, allowed
from app.merchants.scope import Scope
from app.web.auth import current_staff

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
SEEN_KEY = "console_seen"  # epoch seconds of the last console request


class CsrfRefused(Forbidden):
    """A console form without this session's token (code `forbidden`, as every refusal of who may act)."""
    zh = "表单已过期或来源不明，请刷新页面后重试。"
    en = "The form expired or did not come from this site; reload the page and try again."


class CashierNotHere(Forbidden):
    zh = "收银员请使用收银台：/counter/"
    en = "Cashiers work at the counter: /counter/"


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(24)
    return token


def check_csrf() -> None:
    if request.method not in UNSAFE:
        return
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRFToken") or ""
    expected = session.get("csrf") or ""
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRefused()


def idle_expired() -> bool:
    """True (and the session ended) when the signed-in staff member has been idle past the timeout;
    otherwise the console request counts as activity."""
    if session.get("staff_id") is None:
        return False
    now = int(now_utc().timestamp())
    seen = session.get(SEEN_KEY)
    if seen is not None and now - seen > current_app.config["CONSOLE_IDLE_MINUTES"] * 60:
        session.clear()
        return True
    session[SEEN_KEY] = now
    return False


def scope() -> Scope:
    if "console_scope" not in g:
        g.console_scope = Scope.of(current_staff(), request.remote_addr or "")
    return g.console_scope


def console_view(area: Area, action: Action = Action.VIEW):
    """Signed-in staff whose role the permission table allows for (area, action); anonymous GETs go to the
    sign-in page, a cashier is told the counter is theirs, any other role gets 403."""

    def decorator(view):
        view.console_permission = (area, action)

        @wraps(view)
        def wrapper(*args, **kwargs):
            staff = current_staff()
            if staff is None:
                if request.method == "GET":
                    return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
                raise Unauthorized()
            if staff.role is Role.CASHIER:
                raise CashierNotHere()
            if not allowed(staff.role, area, action):
                raise Forbidden()
            return view(*args, **kwargs)

        wrapper.console_permission = (area, action)
        return wrapper

    return decorator
