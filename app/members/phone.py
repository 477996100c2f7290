"""Binding a phone number to a member, proved by a text message code (短信验证码).

A member asks for a code for a mainland mobile number; the code (6 digits, from `secrets`) is kept only as
an HMAC, lives 5 minutes, allows 5 tries and is used once. Texts per phone number are limited (one a
minute, a few an hour and a day, `PHONE_CODE_LIMITS`) in the rate-limit storage, so all workers share
the counts. A phone number belongs to at most one member of a merchant (a unique constraint decides a
race); merging two members is a merchant's decision, not the shopper's.

A wrong code must stay counted even though the request that tried it ends in an error, so `confirm`
reports a wrong code as its result instead of raising: the caller commits, then tells the shopper.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.core.errors import DomainError
from app.extensions import allowance, db
from app.members import signals
from app.members.models import MAX_CODE_ATTEMPTS as MAX_ATTEMPTS, Member, PhoneCode

CODE_TTL = timedelta(minutes=5)
_MOBILE = re.compile(r"1[3-9]\d{9}")


# --- refusals ---------------------------------------------------------------------------------------

class BadPhone(DomainError):
    code, status = "bad_phone", 400
    zh = "请输入正确的 11 位手机号。"
    en = "Enter a valid 11-digit mainland China mobile number."


class PhoneTaken(DomainError):
    code, status = "phone_taken", 409
    zh = "该手机号已绑定其他会员。如需合并会员，请联系门店。"
    en = "This number belongs to another member. Ask the store to merge the two memberships."


class PhoneUnchanged(DomainError):
    code, status = "phone_unchanged", 400
    zh = "你已绑定这个手机号。"
    en = "This number is already yours."


class CodeExpired(DomainError):
    code, status = "code_expired", 400
    zh = "验证码已失效，请重新获取。"
    en = "The code has expired or was already used; ask for a new one."


class CodeLocked(DomainError):
    code, status = "code_locked", 429
    zh = "验证码错误次数过多，请重新获取。"
    en = "Too many wrong codes; ask for a new one."


class CodeWrong(DomainError):
    code, status = "code_wrong", 400
    zh = "验证码不正确，还可以再试 {attempts_left} 次。"
    en = "Wrong code; {attempts_left} tries left."


class TextsTooSoon(DomainError):
    code, status = "sms_too_soon", 429
    zh = "发送太频繁，请 {retry_after} 秒后再试。"
    en = "Too many texts to this number; try again in {retry_after} seconds."


class TextsUnavailable(DomainError):
    code, status = "sms_unavailable", 503
    zh = "暂时无法发送短信验证码，请稍后再试。"
    en = "Verification texts cannot be sent right now; try again later."


# --- rules ------------------------------------------------------------------------------------------

def normalise(raw: str | None) -> str:
    """'+86 138-0013-8000' -> '13800138000'; anything but a mainland mobile number is refused."""
    digits = re.sub(r"[\s\-()]", "", raw or "")
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix):]
            break
    if not _MOBILE.fullmatch(digits):
        raise BadPhone(field="phone")
    return digits


def mask(phone: str | None) -> str:
    """'13800138000' -> '138****8000'."""
    if not phone or len(phone) < 8:
        return phone or ""
    return phone[:3] + "****" + phone[-4:]


def code_mac(secret: str, member_id: int, phone: str, code: str) -> str:
    return hmac.new(secret.encode(), f"{member_id}:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Issued:
    record: PhoneCode
    phone: str
    code: str  # the plain code, to be texted and forgotten


def request_code(member: Member, raw_phone: str, *, secret: str, limits: str, now: datetime) -> Issued:
    """Check the number and the text allowance, then record a new code for it (flushed, not committed).
    The caller texts `Issued.code`; a later code for the same number replaces the earlier ones."""
    phone = normalise(raw_phone)
    if member.phone == phone:
        raise PhoneUnchanged()
    owner = db.session.execute(
        sa.select(Member.id).where(Member.merchant_id == member.merchant_id, Member.phone == phone,
                                   sa.not_(_PLACEHOLDER))
    ).scalar_one_or_none()
    if owner is not None:
        raise PhoneTaken()  # a member made for the number alone is no owner: confirming takes it over
    _take_allowance(phone, limits)
    # Earlier codes for this number stop working: only the newest text counts.
    db.session.execute(
        sa.update(PhoneCode).where(PhoneCode.member_id == member.id, PhoneCode.phone == phone,
                                   PhoneCode.used_at.is_(None)).values(used_at=now))
    code = f"{secrets.randbelow(10 ** 6):06d}"
    record = PhoneCode(member_id=member.id, phone=phone, code_mac=code_mac(secret, member.id, phone, code),
                       attempts=0, created_at=now, expires_at=now + CODE_TTL)
    db.session.add(record)
    db.session.flush()
    return Issued(record, phone, code)


def _take_allowance(phone: str, limits: str) -> None:
    # Counted only when allowed; a request racing another for the last text (another worker) finds it
    # has gone past the limit when it counts, and is refused too.
    used_up = allowance.exhausted(limits, "sms", phone) or allowance.hit(limits, "sms", phone)
    if used_up is not None:
        wait = (used_up[1] - datetime.now(timezone.utc)).total_seconds()  # the storage's clock: real time
        raise TextsTooSoon(retry_after=max(1, int(wait + 0.999)))


@dataclass(frozen=True)
class Confirmation:
    bound: bool
    attempts_left: int = 0

    def refusal(self) -> DomainError:
        return CodeWrong(attempts_left=self.attempts_left) if self.attempts_left else CodeLocked()


def confirm(member: Member, raw_phone: str, code: str, *, secret: str, now: datetime) -> Confirmation:
    """Try `code` for the member's newest code for this number. Raises for a number or code that cannot
    be tried (bad, expired, used, locked, taken); returns `bound=False` with the tries left for a wrong
    code: the caller commits that try before telling the shopper."""
    phone = normalise(raw_phone)
    code = re.sub(r"\s", "", code or "")
    latest = db.session.execute(
        sa.select(PhoneCode.id).where(PhoneCode.member_id == member.id, PhoneCode.phone == phone)
        .order_by(PhoneCode.id.desc()).limit(1)).scalar_one_or_none()
    if latest is None:
        raise CodeExpired()
    # Count the try first, atomically: two tries at once cannot both be the fifth.
    tried = db.session.execute(
        sa.update(PhoneCode)
        .where(PhoneCode.id == latest, PhoneCode.used_at.is_(None), PhoneCode.expires_at > now,
               PhoneCode.attempts < MAX_ATTEMPTS)
        .values(attempts=PhoneCode.attempts + 1)
        .returning(PhoneCode.attempts, PhoneCode.code_mac)
    ).one_or_none()
    if tried is None:
        attempts = db.session.execute(sa.select(PhoneCode.attempts).where(PhoneCode.id == latest)).scalar_one()
        raise CodeLocked() if attempts >= MAX_ATTEMPTS else CodeExpired()
    if not (code.isdigit() and hmac.compare_digest(tried.code_mac, code_mac(secret, member.id, phone, code))):
        return Confirmation(False, MAX_ATTEMPTS - tried.attempts)
    used = db.session.execute(
        sa.update(PhoneCode).where(PhoneCode.id == latest, PhoneCode.used_at.is_(None)).values(used_at=now))
    if used.rowcount != 1:
        raise CodeExpired()  # the same code confirmed by a parallel request a moment ago
    _absorb_placeholder(member, phone)
    try:
        with db.session.begin_nested():
            member.phone = phone
            db.session.flush()
    except IntegrityError:
        raise PhoneTaken() from None
    return Confirmation(True)


# A member made for a phone number alone (app.members.service.member_for_phone): no WeChat identity.
_PLACEHOLDER = sa.and_(Member.openid.is_(None), Member.unionid.is_(None), Member.is_demo.is_(False))


def _absorb_placeholder(member: Member, phone: str) -> None:
    """The number is held by a member made for it alone (no WeChat identity: a coupon was sent to the number
    before its owner signed in): the person proving the number now is that member. Its holdings move to
    `member` (signals.absorbed; vouchers and coupons move theirs) and the placeholder lets go of the number.
    A number held by a real member stays theirs (phone_taken)."""
    holder = db.session.execute(sa.select(Member).where(
        Member.merchant_id == member.merchant_id, Member.phone == phone, Member.id != member.id, _PLACEHOLDER)
    ).scalar_one_or_none()
    if holder is None:
        return
    signals.absorbed.send(holder.id, into=member.id)
    holder.phone = None
    db.session.flush()
