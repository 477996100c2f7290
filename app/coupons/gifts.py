"""转赠: the owner of an unused, valid, transferable coupon shares a gift link; a friend who opens it, signs in
and accepts gets a NEW coupon (a new voucher: new code and QR, same rule and validity) and the giver's voucher
is voided at that moment (its code stops working at once). Unaccepted gifts return after GIFT_HOURS.

- One offer per coupon (a unique coupon_id on coupon_gifts): a coupon is given once, and the coupon a friend
  received is not transferable again.
- The giver's coupon is not locked while the link is out: accepting voids it with one conditional UPDATE
  from `issued` (unused, still valid); if the giver used it meanwhile (at the counter or on an order), the
  accept fails and the gift is returned. Two friends accepting at once: the gift's own conditional
  `pending → accepted` lets one through.
- Claim limits count claims, so a received coupon does not use up the friend's per-member limit.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.core import states
from app.extensions import db
from app.merchants.models import Merchant
from app.coupons.errors import GiftGone, NotTransferable
from app.coupons.models import GIFT_TRANSITIONS, Coupon, CouponGift, GiftStatus
from app.vouchers import service as vouchers
from app.vouchers.models import VoucherSource, VoucherStatus

GIFT_HOURS = 24


def _refuse(zh: str, en: str) -> NotTransferable:
    return NotTransferable(reason=zh, _reason_en=en)


def gift_of(coupon_id: int) -> CouponGift | None:
    return db.session.execute(sa.select(CouponGift).where(CouponGift.coupon_id == coupon_id)).scalar_one_or_none()


def received(coupon_id: int) -> bool:
    """Whether this coupon came from a friend (it is then not transferable again)."""
    return db.session.execute(sa.select(CouponGift.id).where(CouponGift.new_coupon_id == coupon_id)).first() is not None


def offer(coupon: Coupon, member_id: int, *, now: datetime) -> CouponGift:
    """Makes the gift link of `coupon` for its owner; the same gift again while it is pending."""
    if coupon.member_id != member_id:
        raise _refuse("不是你的券", "it is not yours")
    existing = gift_of(coupon.id)
    if existing is not None:
        if status_of(existing, now) is GiftStatus.PENDING:
            return existing
        raise _refuse("每张券只能转赠一次", "a coupon can be given once")
    v = coupon.voucher
    if not coupon.campaign.transferable:
        raise _refuse("该活动的券不可转赠", "this campaign's coupons are not transferable")
    if received(coupon.id):
        raise _refuse("朋友送的券不能再转赠", "a coupon received as a gift cannot be given again")
    if (v.status is not VoucherStatus.ISSUED or v.uses_left != v.uses_total or coupon.order_id is not None
            or (v.valid_until is not None and v.valid_until <= now)):
        raise _refuse("只有未使用且在有效期内的券可以转赠", "only an unused coupon within its validity can be given")
    gift = CouponGift(merchant_id=coupon.merchant_id, coupon_id=coupon.id, giver_id=member_id,
                      token=secrets.token_urlsafe(18), status=GiftStatus.PENDING, created_at=now,
                      expires_at=now + timedelta(hours=GIFT_HOURS))
    db.session.add(gift)
    db.session.flush()
    return gift


def status_of(gift: CouponGift, now: datetime) -> GiftStatus:
    """The gift's status as people see it: a pending gift past its time has returned (a job marks it)."""
    if gift.status is GiftStatus.PENDING and gift.expires_at <= now:
        return GiftStatus.RETURNED
    return gift.status


def by_token(merchant_id: int, token: str) -> CouponGift:
    gift = db.session.execute(sa.select(CouponGift).where(CouponGift.token == token[:32])).scalar_one_or_none()
    if gift is None or gift.merchant_id != merchant_id:
        raise GiftGone(reason="链接无效", _reason_en="the link is not valid")
    return gift


def accept(gift: CouponGift, member_id: int, *, now: datetime) -> Coupon:
    """The friend `member_id` takes the gift: the giver's voucher is voided, a new one issued to the friend."""
    if gift.giver_id == member_id:
        raise GiftGone(reason="不能领取自己转赠的券", _reason_en="you cannot accept your own gift")
    if status_of(gift, now) is not GiftStatus.PENDING:
        raise GiftGone(reason="已被领取或已退回", _reason_en="it was already accepted or has returned")
    coupon = db.session.get(Coupon, gift.coupon_id)
    old = coupon.voucher
    # The giver's code stops working now, if it is still unused and valid (conditional, like a redeem).
    if coupon.order_id is not None or not vouchers.void_unused(old, reason="转赠给朋友", now=now):
        states.transition(gift, GiftStatus.RETURNED, GIFT_TRANSITIONS)
        raise GiftGone(reason="赠送人已使用了这张券", _reason_en="the giver has used the coupon")
    new_voucher = vouchers.issue(
        db.session.get(Merchant, coupon.merchant_id), title=old.title, handover=old.handover, source=VoucherSource.COUPON,
        value_fen=old.value_fen, uses=old.uses_total, min_interval_seconds=old.min_interval_seconds,
        valid_from=old.valid_from, valid_until=old.valid_until, store_ids=old.store_ids or None, member_id=member_id)
    new = Coupon(merchant_id=coupon.merchant_id, campaign_id=coupon.campaign_id, voucher_id=new_voucher.id,
                 member_id=member_id, claimed_at=now)
    db.session.add(new)
    db.session.flush()
    if not states.transition(gift, GiftStatus.ACCEPTED, GIFT_TRANSITIONS, accepted_at=now, receiver_id=member_id,
                             new_coupon_id=new.id):
        raise GiftGone(reason="已被领取或已退回", _reason_en="it was already accepted or has returned")
    return new


def return_expired(now: datetime, limit: int = 500) -> int:
    """Marks pending gifts past their time returned (the job); their coupons were never locked."""
    return db.session.execute(
        sa.update(CouponGift).where(CouponGift.status == GiftStatus.PENDING, CouponGift.expires_at <= now)
        .values(status=GiftStatus.RETURNED).execution_options(synchronize_session=False)).rowcount
