"""Coupons listen to members: a phone-only member taken over by the person who bound that number hands over
its coupons (and their vouchers), its claim counters (summed, so the per-member limits still hold) and gifts."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.members import signals as member_signals
from app.coupons.models import Coupon, CouponGift, MemberClaims
from app.vouchers.models import Voucher


def _absorbed(placeholder_id: int, *, into: int, **_) -> None:
    db.session.flush()
    db.session.execute(sa.update(Voucher).where(Voucher.member_id == placeholder_id).values(member_id=into)
                       .execution_options(synchronize_session=False))
    db.session.execute(sa.update(Coupon).where(Coupon.member_id == placeholder_id).values(member_id=into)
                       .execution_options(synchronize_session=False))
    for column in (CouponGift.giver_id, CouponGift.receiver_id):
        db.session.execute(sa.update(CouponGift).where(column == placeholder_id).values({column.key: into})
                           .execution_options(synchronize_session=False))
    for row in db.session.execute(sa.select(MemberClaims).where(MemberClaims.member_id == placeholder_id)).scalars().all():
        mine = db.session.get(MemberClaims, (row.campaign_id, into))
        if mine is None:
            db.session.add(MemberClaims(campaign_id=row.campaign_id, member_id=into, claimed=row.claimed,
                                        day=row.day, day_claimed=row.day_claimed))
        else:
            mine.claimed += row.claimed
            if row.day == mine.day:
                mine.day_claimed += row.day_claimed
            elif row.day > mine.day:
                mine.day, mine.day_claimed = row.day, row.day_claimed
        db.session.delete(row)
    db.session.flush()
    db.session.expire_all()


def connect() -> None:
    member_signals.absorbed.connect(_absorbed)
