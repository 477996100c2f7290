"""Issue, look up, verify, revoke and void vouchers (redeem and undo: `app.vouchers.redeem`).

Every state change that can race is decided by the database: redeem is one conditional UPDATE whose row
count says whether it won; its idempotency key is claimed by a unique index before that. Services flush;
the request (or job) commits once.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.core import states
from app.core.clock import end_of_day, iso, month_day_time, now_utc, shanghai_today, start_of_day
from app.core.errors import BadRequest
from app.extensions import db
from app.members.service import name_of
from app.merchants.models import ApiKey, Merchant, Staff, Store
from app.vouchers import codes
from app.vouchers.errors import (
    AlreadyRedeemed, Expired, Forged, NotEnoughUses, NotYetValid, Revoked, TooSoon, Void, VoucherNotFound,
    WrongStore,
)
from app.vouchers.models import (
    USABLE, TRANSITIONS, EventKind, Redemption, Voucher, VoucherEvent, VoucherSource, VoucherStatus,
    VoucherStore,
)
from app.vouchers.tokens import read_qr_token


@dataclass(frozen=True)
class Actor:
    """Who acts at a counter: a store, and a staff member or an API key, on a device."""

    merchant_id: int
    store_id: int
    staff_id: int | None = None
    api_key_id: int | None = None
    device_id: str = ""


def _local(value: datetime | None) -> str:
    return month_day_time(value)


def _local_en(value: datetime | None) -> str:
    """The English sentences' moment. Passed as an `_`-prefixed detail, which the sentence uses and the
    JSON body leaves out."""
    return month_day_time(value, "en")


# ---------------------------------------------------------------- issue

def issue(
    merchant: Merchant,
    *,
    title: str,
    source: VoucherSource,
    handover: str = "",
    value_fen: int | None = None,
    note: str = "",
    uses: int = 1,
    min_interval_seconds: int | None = None,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    valid_days: int | None = None,
    store_ids: list[int] | None = None,
    member_id: int | None = None,
    source_ref: str | None = None,
    static_qr: bool = False,
    staff_id: int | None = None,
    api_key_id: int | None = None,
) -> Voucher:
    """Validity is [valid_from, valid_until); `valid_days` N means until the end of the N-th day
    (Asia/Shanghai) counting the day of issue."""
    now = now_utc()
    if uses < 1:
        raise BadRequest(field="uses")
    if value_fen is not None and value_fen < 0:
        raise BadRequest(field="value_fen")
    valid_from = valid_from or now
    if valid_days is not None:
        if valid_days < 1:
            raise BadRequest(field="valid_days")
        valid_until = end_of_day(shanghai_today(valid_from) + timedelta(days=valid_days - 1))
    if valid_until is not None and valid_until <= valid_from:
        raise BadRequest(field="valid_until", zh="有效期结束时间必须晚于开始时间。",
                         en="valid_until must be after valid_from.")
    if store_ids:
        found = set(db.session.execute(
            sa.select(Store.id).where(Store.merchant_id == merchant.id, Store.id.in_(store_ids))
        ).scalars())
        missing = sorted(set(store_ids) - found)
        if missing:
            raise BadRequest(field="store_ids", zh=f"门店不存在：{missing}。", en=f"Unknown stores: {missing}.")
    voucher = Voucher(
        merchant_id=merchant.id, code=_unused_code(), title=title, handover=handover or title,
        value_fen=value_fen, note=note, source=source, source_ref=source_ref, member_id=member_id,
        status=VoucherStatus.ISSUED, uses_total=uses, uses_left=uses,
        min_interval_seconds=min_interval_seconds, valid_from=valid_from, valid_until=valid_until,
        all_stores=not store_ids, static_qr=static_qr, created_at=now, updated_at=now,
    )
    voucher.store_links = [VoucherStore(store_id=s) for s in sorted(set(store_ids or []))]
    db.session.add(voucher)
    db.session.flush()
    _event(voucher, EventKind.ISSUED, None, VoucherStatus.ISSUED, staff_id=staff_id, api_key_id=api_key_id,
           uses_delta=uses)
    return voucher


def _unused_code() -> str:
    # 31**11 codes: a clash is ~4e-11 per issue even with a million live vouchers, but look anyway.
    while True:
        code = codes.generate()
        if db.session.execute(sa.select(Voucher.id).where(Voucher.code == code)).first() is None:
            return code


_EVENT_INSERT = sa.insert(VoucherEvent.__table__)


def _event(voucher: Voucher, kind: EventKind, before, after, *, actor: Actor | None = None,
           staff_id: int | None = None, api_key_id: int | None = None, redemption_id: int | None = None,
           uses_delta: int = 0, reason: str = "") -> None:
    # A Core INSERT: an append-only row nothing reads back in this request needs no ORM unit of work.
    db.session.execute(_EVENT_INSERT, dict(
        voucher_id=voucher.id, merchant_id=voucher.merchant_id, kind=kind,
        status_before=getattr(before, "value", before), status_after=getattr(after, "value", after),
        uses_delta=uses_delta, redemption_id=redemption_id,
        store_id=actor.store_id if actor else None,
        staff_id=actor.staff_id if actor else staff_id,
        api_key_id=actor.api_key_id if actor else api_key_id,
        device_id=actor.device_id if actor else "", reason=reason, created_at=now_utc(),
    ))


# ---------------------------------------------------------------- look up

def parse_presented(text: str, *, secret: str, max_age: int) -> tuple[str, int | str]:
    """What the cashier scanned or typed -> ("id", voucher_id) from a signed QR, or ("code", code).

    Raises `Forged` before any database access when the signature or the check character is wrong.
    Accepts the QR's URL, the bare token, `wx.scanQRCode` results ("QR_CODE,<content>") and typed codes
    with or without dashes, in either case.
    """
    text = (text or "").strip()
    if not text:
        raise BadRequest(field="code", zh="请输入券码。", en="Enter a code.")
    if len(text) > 2048:
        raise Forged()
    head, sep, rest = text.partition(",")
    if sep and head.replace("_", "").isalnum() and head.isupper():
        text = rest.strip()  # wx.scanQRCode: "QR_CODE,<content>" / "CODE_128,<content>"
    if codes.looks_like_code(text):
        code = codes.normalise(text)
        if not codes.is_valid(code):
            raise Forged(zh="券码有误（校验位不符），请核对后重新输入。",
                         en="This code has a typo (check character mismatch).")
        return "code", code
    typed = text.replace("-", "").replace(" ", "")
    if typed.isalnum() and len(typed) < 2 * codes.LENGTH:
        # Too short or too long for a code, and far too short for a QR token: a typing slip.
        raise Forged(zh=f"券码共 {codes.LENGTH} 位（如 K7QD-9XWF-3M2P），请核对后重新输入。",
                     en=f"A code has {codes.LENGTH} characters (like K7QD-9XWF-3M2P); check and type it again.")
    token = text.rsplit("/v/", 1)[-1].split("?", 1)[0].split("#", 1)[0]
    return "id", read_qr_token(secret, token, max_age=max_age).voucher_id


_BY_ID = sa.select(Voucher).where(Voucher.id == sa.bindparam("value"))
_BY_CODE = sa.select(Voucher).where(Voucher.code == sa.bindparam("value"))


def find(merchant_id: int, kind: str, value: int | str) -> Voucher:
    statement = _BY_ID if kind == "id" else _BY_CODE
    voucher = db.session.execute(statement, {"value": value}).scalar_one_or_none()
    # Another merchant's voucher does not exist for this counter.
    if voucher is None or voucher.merchant_id != merchant_id:
        raise VoucherNotFound()
    return voucher


def by_reference(merchant_id: int, source: VoucherSource, reference: str) -> Voucher | None:
    return db.session.execute(sa.select(Voucher).where(
        Voucher.merchant_id == merchant_id, Voucher.source == source, Voucher.source_ref == reference)
    ).scalar_one_or_none()


def last_redemption(voucher_id: int) -> Redemption | None:
    return db.session.execute(
        sa.select(Redemption).where(Redemption.voucher_id == voucher_id, Redemption.undone_at.is_(None))
        .order_by(Redemption.id.desc()).limit(1)
    ).scalar_one_or_none()


def _redeemed_details(voucher: Voucher) -> dict:
    last = last_redemption(voucher.id)
    if last is None:
        return {"redeemed_at": None, "redeemed_at_local": "", "_redeemed_at_en": "", "store_name": "", "staff_name": ""}
    store = db.session.get(Store, last.store_id)
    if last.staff_id:
        staff_name = db.session.get(Staff, last.staff_id).name
    elif last.api_key_id:
        staff_name = f"接口 {db.session.get(ApiKey, last.api_key_id).name}"
    else:
        staff_name = ""
    return {"redeemed_at": iso(last.redeemed_at), "redeemed_at_local": _local(last.redeemed_at),
            "_redeemed_at_en": _local_en(last.redeemed_at),
            "store_id": last.store_id, "store_name": store.name if store else "", "staff_name": staff_name}


def refusal(voucher: Voucher, store_id: int, uses: int, now: datetime):
    """The reason `voucher` cannot take `uses` uses at `store_id` now, or None when it can."""
    if (voucher.status in USABLE and voucher.uses_left >= uses and now >= voucher.valid_from
            and (voucher.valid_until is None or now < voucher.valid_until)
            and (voucher.all_stores or store_id in voucher.store_ids)
            and (voucher.next_use_at is None or now >= voucher.next_use_at)):
        return None  # the common case, decided without building a refusal
    summary = {"voucher": voucher_json(voucher, now)}
    if voucher.status is VoucherStatus.REVOKED:
        return Revoked(reason=voucher.revoke_reason or "", **summary)
    if voucher.status is VoucherStatus.VOID:
        return Void(**summary)
    if voucher.uses_left == 0 or voucher.status is VoucherStatus.REDEEMED:
        return AlreadyRedeemed(**_redeemed_details(voucher), **summary)
    if voucher.status is VoucherStatus.EXPIRED or (voucher.valid_until is not None and now >= voucher.valid_until):
        until = voucher.valid_until - timedelta(seconds=1) if voucher.valid_until else None
        return Expired(valid_until=iso(voucher.valid_until), valid_until_local=_local(until),
                       _valid_until_en=_local_en(until), **summary)
    if now < voucher.valid_from:
        return NotYetValid(valid_from=iso(voucher.valid_from), valid_from_local=_local(voucher.valid_from),
                           _valid_from_en=_local_en(voucher.valid_from), **summary)
    if not voucher.all_stores and store_id not in voucher.store_ids:
        names = db.session.execute(
            sa.select(Store.name).where(Store.id.in_(voucher.store_ids)).order_by(Store.id)).scalars()
        return WrongStore(stores="、".join(names), store_ids=voucher.store_ids, **summary)
    if uses > voucher.uses_left:
        return NotEnoughUses(uses_left=voucher.uses_left, uses=uses, **summary)
    if voucher.next_use_at is not None and now < voucher.next_use_at:
        return TooSoon(next_use_at=iso(voucher.next_use_at), next_use_local=_local(voucher.next_use_at),
                       _next_use_en=_local_en(voucher.next_use_at), **summary)
    return None


def verify(voucher: Voucher, actor: Actor, *, uses: int = 1) -> Voucher:
    """Raises the refusal when the voucher cannot be redeemed here now; changes nothing."""
    reason = refusal(voucher, actor.store_id, uses, now_utc())
    if reason is not None:
        raise reason
    return voucher


# ---------------------------------------------------------------- revoke / void

def _end(voucher: Voucher, to: VoucherStatus, kind: EventKind, reason: str, *, staff_id=None, api_key_id=None):
    """Moves a voucher with uses left to a final status. Conditional, so it cannot cross a redeem."""
    now = now_utc()
    before = voucher.status
    done = states.allowed(TRANSITIONS, before, to) and states.transition(
        voucher, to, TRANSITIONS, updated_at=now,
        revoke_reason=reason[:255] if to is VoucherStatus.REVOKED else Voucher.revoke_reason)
    db.session.expire(voucher)
    if not done:
        if voucher.status is to:
            return voucher
        raise refusal(voucher, 0, 1, now) or BadRequest(field="status")
    _event(voucher, kind, before, to, staff_id=staff_id, api_key_id=api_key_id, reason=reason)
    return voucher


def revoke(voucher: Voucher, *, reason: str, staff_id: int | None = None, api_key_id: int | None = None) -> Voucher:
    if not (reason or "").strip():
        raise BadRequest(field="reason", zh="请填写撤回原因。", en="Give a reason.")
    return _end(voucher, VoucherStatus.REVOKED, EventKind.REVOKED, reason.strip(),
                staff_id=staff_id, api_key_id=api_key_id)


def void(voucher: Voucher, *, reason: str) -> Voucher:
    """Its order was refunded. A redeemed voucher must be un-redeemed first (refunds and redemptions
    exclude each other): that raises `already_redeemed`."""
    return _end(voucher, VoucherStatus.VOID, EventKind.VOIDED, reason)


# ---------------------------------------------------------------- used online (coupons on an order)

def take_online(voucher: Voucher, *, reason: str, now: datetime) -> bool:
    """Uses up a single-use voucher off the counter (a coupon spent on an online order): one conditional
    UPDATE from `issued` while valid, so a counter redeeming it at the same instant and this cannot both win.
    True when this call took it; the ledger says why."""
    done = states.transition(voucher, VoucherStatus.REDEEMED, TRANSITIONS, updated_at=now, uses_left=0,
                             where=(Voucher.status == VoucherStatus.ISSUED, Voucher.uses_total == 1,
                                    Voucher.valid_from <= now,
                                    sa.or_(Voucher.valid_until.is_(None), Voucher.valid_until > now)))
    if done:
        _event(voucher, EventKind.REDEEMED, VoucherStatus.ISSUED, VoucherStatus.REDEEMED, uses_delta=-1,
               reason=reason)
    return done


def give_back_online(voucher: Voucher, *, reason: str, now: datetime) -> bool:
    """Undoes `take_online` (its order was cancelled or wholly refunded) while the voucher is still valid;
    False when it has expired meanwhile (then it stays used) or was not taken."""
    done = states.transition(voucher, VoucherStatus.ISSUED, TRANSITIONS, updated_at=now, uses_left=1,
                             where=(Voucher.uses_total == 1,
                                    sa.or_(Voucher.valid_until.is_(None), Voucher.valid_until > now)))
    if done:
        _event(voucher, EventKind.UNDONE, VoucherStatus.REDEEMED, VoucherStatus.ISSUED, uses_delta=1, reason=reason)
    return done


def void_unused(voucher: Voucher, *, reason: str, now: datetime) -> bool:
    """Voids a voucher still unused and valid (a coupon given to a friend, who gets a new one): one
    conditional UPDATE, so it cannot cross a redeem or an online use; True when this call voided it."""
    done = voucher.status is VoucherStatus.ISSUED and states.transition(
        voucher, VoucherStatus.VOID, TRANSITIONS, updated_at=now,
        where=(Voucher.status == VoucherStatus.ISSUED, Voucher.uses_left == Voucher.uses_total,
               sa.or_(Voucher.valid_until.is_(None), Voucher.valid_until > now)))
    if done:
        _event(voucher, EventKind.VOIDED, VoucherStatus.ISSUED, VoucherStatus.VOID, reason=reason)
    return done


# ---------------------------------------------------------------- reading

def effective_status(voucher: Voucher, now: datetime) -> str:
    if voucher.status in USABLE and voucher.valid_until is not None and now >= voucher.valid_until:
        return VoucherStatus.EXPIRED.value
    return voucher.status.value


def voucher_json(voucher: Voucher, now: datetime | None = None) -> dict:
    now = now or now_utc()
    return {
        "id": voucher.id,
        "code": codes.pretty(voucher.code),
        "title": voucher.title,
        "handover": voucher.handover,
        "value_fen": voucher.value_fen,
        "status": effective_status(voucher, now),
        "uses_total": voucher.uses_total,
        "uses_left": voucher.uses_left,
        "min_interval_seconds": voucher.min_interval_seconds,
        "next_use_at": iso(voucher.next_use_at),
        "valid_from": iso(voucher.valid_from),
        "valid_until": iso(voucher.valid_until),
        "store_ids": None if voucher.all_stores else voucher.store_ids,
        "member_id": voucher.member_id,
        "member_name": name_of(voucher.member_id),
        "source": voucher.source.value,
        "note": voucher.note,
    }


def redemption_json(r: Redemption, *, with_undo: bool = False) -> dict:
    body = {
        "id": r.id, "voucher_id": r.voucher_id, "store_id": r.store_id, "staff_id": r.staff_id,
        "uses": r.uses, "redeemed_at": iso(r.redeemed_at),
    }
    if with_undo:
        body.update(undone_at=iso(r.undone_at), undo_reason=r.undo_reason)
    return body


def todays_redemptions(store_id: int, *, now: datetime | None = None) -> list[Redemption]:
    now = now or now_utc()
    start = start_of_day(shanghai_today(now))
    return list(db.session.execute(
        sa.select(Redemption).where(Redemption.store_id == store_id, Redemption.redeemed_at >= start)
        .options(selectinload(Redemption.voucher))
        .order_by(Redemption.id.desc())
    ).scalars())
