"""Who is calling: a staff member signed in to the counter/console, or a bearer API key."""
from __future__ import annotations

from functools import wraps

from flask import g, redirect, request, session, url_for

from app.core.errors import Forbidden, Unauthorized
from app.extensions import db
from app.merchants.models import KeyKind, Role, Staff
from app.merchants.service import KeyPrincipal, authenticate_key


def current_staff() -> Staff | None:
    if "staff" in g:
        return g.staff
    staff_id = session.get("staff_id")
    staff = db.session.get(Staff, staff_id) if staff_id else None
    if staff is not None and (not staff.active or session.get("staff_pw") != staff.password_hash[-12:]):
        staff = None  # deactivated or password changed since sign-in
    g.staff = staff
    return staff


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
