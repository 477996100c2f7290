"""Who is calling: a staff member signed in to the counter/console, or a bearer API key."""
from __future__ import annotations

from functools import wraps

from flask import current_app, g, redirect, request, session, url_for

from app.core.clock import iso, to_shanghai
from app.core.errors import DomainError, Forbidden, TooManyTries, Unauthorized
from app.extensions import allowance, db
from app.merchants.models import KeyKind, Role, Staff
from app.merchants.service import KeyPrincipal, authenticate_key, authenticate_staff


def current_staff() -> Staff | None:
    if "staff" in g:
        return g.staff
    staff_id = session.get("staff_id")
    staff = db.session.get(Staff, staff_id) if staff_id else None
    if staff is not None and (not staff.active or session.get("staff_pw") != staff.password_hash[-12:]):
        staff = None  # deactivated or password changed since sign-in
    g.staff = staff
    return staff


def _sign_in_checks(username: str) -> list[tuple[str, str, str]]:
    # One count for both doors (console and counter): switching pages gives a guesser no more tries.
    cfg = current_app.config
    return [(cfg["CONSOLE_LOGIN_LIMITS"], "staff-login", f"user:{username.strip().lower()}"),
            (cfg["CONSOLE_LOGIN_LIMITS_IP"], "staff-login", f"ip:{request.remote_addr or ''}")]


def check_staff_password(username: str, password: str) -> Staff:
    """The staff member with this username and password, for the console's and the counter's sign-in.
    Failed tries are limited per username and per client IP (CONSOLE_LOGIN_LIMITS, CONSOLE_LOGIN_LIMITS_IP),
    counted like the counter's wrong codes (Redis, else the database); over the limit: TooManyTries (429)
    saying when to try again, before the password is even looked at."""
    checks = _sign_in_checks(username)
    used_up = allowance.first_used_up(checks)
    if used_up is not None:
        raise TooManyTries(zh="登录失败次数过多，请在 {retry_at_local} 后再试。",
                           en="Too many failed sign-ins; try again after {retry_at_local}.",
                           limit=str(used_up.item), retry_at=iso(used_up.reset_at),
                           retry_at_local=to_shanghai(used_up.reset_at).strftime("%H:%M:%S"))
    try:
        return authenticate_staff(username, password)
    except DomainError:
        allowance.hit_all(checks)
        raise


def sign_in_staff(staff: Staff) -> None:
    session.clear()
    session.permanent = True
    session["staff_id"] = staff.id
    session["staff_pw"] = staff.password_hash[-12:]


def staff_required(*roles: Role, login_endpoint: str = "counter.login"):
    """For HTML views: redirect to sign-in when anonymous; 403 for the wrong role."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            staff = current_staff()
            if staff is None:
                if request.method == "GET" and not request.is_json:
                    return redirect(url_for(login_endpoint, next=request.full_path.rstrip("?")))
                raise Unauthorized()
            if roles and staff.role not in roles:
                raise Forbidden()
            return view(*args, **kwargs)

        return wrapper

    return decorator


def bearer_key() -> KeyPrincipal:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized()
    return authenticate_key(token.strip())


def key_required(kind: KeyKind):
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            principal = bearer_key()
            if principal.kind is not kind:
                raise Forbidden(zh="此密钥不能用于该接口。", en="This key cannot be used here.")
            g.principal = principal
            return view(*args, **kwargs)

        return wrapper

    return decorator
