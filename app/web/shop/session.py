"""Who is shopping: the signed-in member of this merchant (session cookie), and the merchant of the page."""
from __future__ import annotations

from functools import wraps

import sqlalchemy as sa
from flask import abort, g, redirect, request, session, url_for

from app.extensions import db
from app.members.models import Member
from app.merchants.models import Merchant


def merchant_by_slug(slug: str) -> Merchant:
    merchant = db.session.execute(sa.select(Merchant).where(Merchant.slug == slug)).scalar_one_or_none()
    if merchant is None:
        abort(404)
    return merchant


def session_member_ids() -> list[int]:
    """Every member id the session holds (one per merchant shopped at), unchecked. The catalog pages pass
    them to their one query, which keeps the one belonging to the page's merchant (app.catalog.snapshot);
    everything else uses `current_member`."""
    members = session.get("members") or {}
    return [m for m in members.values() if isinstance(m, int)]


def current_member(merchant_id: int) -> Member | None:
    """The member signed in for this merchant, or None. Sessions keep one member per merchant."""
    cache = g.setdefault("members", {})
    if merchant_id in cache:
        return cache[merchant_id]
    member_id = (session.get("members") or {}).get(str(merchant_id))
    member = db.session.get(Member, member_id) if member_id else None
    if member is not None and member.merchant_id != merchant_id:
        member = None
    cache[merchant_id] = member
    return member


def sign_in_member(member: Member) -> None:
    members = dict(session.get("members") or {})
    members[str(member.merchant_id)] = member.id
    session["members"] = members
    session.permanent = True
    g.setdefault("members", {})[member.merchant_id] = member


def sign_out_member(merchant_id: int) -> None:
    members = dict(session.get("members") or {})
    members.pop(str(merchant_id), None)
    session["members"] = members
    g.setdefault("members", {}).pop(merchant_id, None)


def safe_next(target: str | None, default: str) -> str:
    """Only paths on our own host: no scheme, no //host, no backslashes."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def member_required(view):
    """For views with a `slug` argument: sign in first, then come back."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        merchant = merchant_by_slug(kwargs["slug"])
        if current_member(merchant.id) is None:
            return redirect(url_for("shop.signin", slug=merchant.slug, next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper
