"""Binding a phone number to the signed-in member: ask for a text message code, then type it in.
The rules are in app.members.phone; the text goes out through app.integrations.sms.

Post/Redirect/Get: a code that was sent is remembered in the session (PENDING) and the code step is the
answer to `GET /m/<slug>/me/phone`, so reloading it never asks for another text, and a wrong code shows
the demo code again (demo mode only: without an SMS gateway, outside production)."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for

from app.core import logging as applog
from app.core.clock import now_utc
from app.core.database import commit, rollback
from app.core.errors import DomainError
from app.core.i18n import N_, current_lang
from app.integrations import sms
from app.members import phone as phones
from app.members.models import Member
from app.web.shop import bp
from app.web.shop.session import current_member, member_required, merchant_by_slug

MINUTES = int(phones.CODE_TTL.total_seconds() // 60)

# The number awaiting a code, in the session under one key:
#   {"member": <member id>, "phone": "13800138000", "until": <unix seconds the code is valid until>,
#    "code": "123456"  (only in demo mode, where the page shows it anyway; never with a real gateway)}
# Kept for the member who asked; "until" 0 marks a code that can no longer be used (locked, expired, used
# elsewhere): the page then offers the phone step again, with the number filled in. Cleared once bound.
PENDING = "phone_pending"


def _pending(member: Member) -> dict | None:
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or pending.get("member") != member.id or not pending.get("phone"):
        return None
    return pending


def _live(pending: dict | None) -> bool:
    return pending is not None and (pending.get("until") or 0) > now_utc().timestamp()


def _remember(member: Member, issued: phones.Issued, *, demo: bool) -> None:
    pending = {"member": member.id, "phone": issued.phone, "until": int(issued.record.expires_at.timestamp())}
    if demo:
        pending["code"] = issued.code
    session[PENDING] = pending


def _forget_code(member: Member) -> None:
    """The code cannot be used any more (locked or expired): keep the number, drop the code."""
    pending = _pending(member)
    if pending is not None:
        session[PENDING] = {"member": member.id, "phone": pending["phone"], "until": 0}


def _page(merchant, member, *, step: str, phone: str = "", error: dict | None = None, demo_code: str | None = None,
          status: int = 200):
    available = sms.sender_for(current_app.config) is not None
    if not available and error is None:
        error = phones.TextsUnavailable().to_dict(current_lang())
    return render_template(
        "shop/phone.html", merchant=merchant, member=member, step=step, phone=phone, masked=phones.mask(phone),
        current=phones.mask(member.phone), error=error, demo_code=demo_code, minutes=MINUTES,
        available=available,
    ), status


def _refused(merchant, member, err: DomainError, *, step: str, phone: str):
    rollback()
    return _page(merchant, member, step=step, phone=phone, error=err.to_dict(current_lang()), status=err.status)


@bp.get("/m/<slug>/me/phone")
@member_required
def phone_form(slug: str):
    """The code step while a sent code is still valid (reloading it sends nothing); the phone step
    otherwise, or when the shopper asked for another number (`?change=1`)."""
    merchant = merchant_by_slug(slug)
    member = current_member(merchant.id)
    pending = _pending(member)
    available = sms.sender_for(current_app.config) is not None
    if available and _live(pending) and not request.args.get("change"):
        return _page(merchant, member, step="code", phone=pending["phone"], demo_code=pending.get("code"))
    return _page(merchant, member, step="phone", phone=pending["phone"] if pending else "")


@bp.post("/m/<slug>/me/phone/code")
@member_required
def phone_code(slug: str):
    merchant = merchant_by_slug(slug)
    member = current_member(merchant.id)
    raw = request.form.get("phone", "")
    cfg = current_app.config
    sender = sms.sender_for(cfg)
    try:
        if sender is None:
            raise phones.TextsUnavailable()
        issued = phones.request_code(member, raw, secret=cfg["SECRET_KEY"], limits=cfg["PHONE_CODE_LIMITS"],
                                     now=now_utc())
        try:  # before the commit: a text that could not be sent leaves no code behind
            sender.send_code(issued.phone, issued.code, merchant=merchant.name, minutes=MINUTES)
        except sms.SmsFailed as exc:
            applog.event("verification text failed", level=40, error=str(exc))
            raise phones.TextsUnavailable() from exc
    except DomainError as err:
        return _refused(merchant, member, err, step="phone", phone=raw.strip()[:20])
    commit()
    _remember(member, issued, demo=sender.shows_code)
    return redirect(url_for("shop.phone_form", slug=merchant.slug), 303)


@bp.post("/m/<slug>/me/phone")
@member_required
def phone_bind(slug: str):
    merchant = merchant_by_slug(slug)
    member = current_member(merchant.id)
    raw, code = request.form.get("phone", ""), request.form.get("code", "")
    try:
        result = phones.confirm(member, raw, code, secret=current_app.config["SECRET_KEY"], now=now_utc())
    except phones.BadPhone as err:
        return _refused(merchant, member, err, step="phone", phone=raw.strip()[:20])
    except DomainError as err:
        if isinstance(err, (phones.CodeExpired, phones.CodeLocked)):
            _forget_code(member)
        return _refused(merchant, member, err, step="code", phone=phones.normalise(raw))
    phone = phones.normalise(raw)
    if not result.bound:
        commit()  # the wrong try stays counted
        err = result.refusal()
        pending = _pending(member)
        demo_code = None
        if isinstance(err, phones.CodeLocked):
            _forget_code(member)
        elif pending is not None and pending["phone"] == phone:
            demo_code = pending.get("code")  # still valid: show it again rather than ask for a new text
        return _page(merchant, member, step="code", phone=phone, error=err.to_dict(current_lang()),
                     demo_code=demo_code, status=err.status)
    session.pop(PENDING, None)
    flash(N_("手机号已绑定"))
    return redirect(url_for("shop.me", slug=merchant.slug))
