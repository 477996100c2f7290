"""A coupon at the counter: what the cashier sees beside the voucher (its rule; for threshold and percent
coupons the discount on the bill entered), the refusals a voucher alone does not know (`online_only`,
`amount_required`, `below_threshold`), and the record of what a counter redemption took off.

The voucher's own rules (valid, store accepted, unused, exactly once) stay in app.vouchers; this adds the
campaign's, computed by the same `rules.amount_off` as online."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from app.core.money import yuan_short
from app.extensions import db
from app.coupons import rules
from app.coupons.claim import sku_label
from app.coupons.errors import AmountRequired, BelowThreshold, OnlineOnly
from app.coupons.models import CampaignType, Coupon, CouponRedemption
from app.vouchers.models import Voucher, VoucherSource


@dataclass(frozen=True)
class Terms:
    """What redeeming this coupon on a bill does: None amounts when no bill was given (or none is needed)."""

    coupon: Coupon
    amount_fen: int | None
    discount_fen: int | None

    @property
    def payable_fen(self) -> int | None:
        return None if self.amount_fen is None else self.amount_fen - (self.discount_fen or 0)

    def json(self) -> dict:
        return {"discount_fen": self.discount_fen, "payable_fen": self.payable_fen}


def coupon_of(voucher: Voucher) -> Coupon | None:
    if voucher.source is not VoucherSource.COUPON:
        return None
    return db.session.execute(sa.select(Coupon).where(Coupon.voucher_id == voucher.id)).scalar_one_or_none()


def coupon_json(coupon: Coupon) -> dict:
    c, v = coupon.campaign, coupon.voucher
    label = sku_label(c)
    return {"campaign_id": c.id, "name": c.name, "type": c.type.value, "rule": rules.rule_text(c, label),
            "value_fen": c.value_fen, "threshold_fen": c.threshold_fen, "percent_off": c.percent_off,
            "cap_fen": c.cap_fen, "sku": {"id": c.sku_id, "name": label} if c.sku_id else None,
            "uses_left": v.uses_left, "online": c.online, "counter": c.counter,
            "amount_required": rules.needs_amount(c)}


def terms(coupon: Coupon, amount_fen: int | None, *, required: bool) -> Terms:
    """The campaign's refusals and the discount on `amount_fen`. `required`: a redeem, which needs the bill
    for threshold and percent coupons; a verify only previews (the bill may come later)."""
    c = coupon.campaign
    label = sku_label(c)
    if not c.counter:
        raise OnlineOnly()
    if c.type in (CampaignType.EXCHANGE, CampaignType.PUNCH):
        return Terms(coupon, None, None)  # an item to hand over, no money off a bill
    if amount_fen is None:
        if required and rules.needs_amount(c):
            raise AmountRequired(rule=rules.rule_text(c, label), _rule_en=rules.rule_text_en(c, label))
        return Terms(coupon, None, c.value_fen if c.type is CampaignType.CASH_OFF else None)
    if c.type is CampaignType.THRESHOLD and amount_fen < (c.threshold_fen or 0):
        raise BelowThreshold(threshold_fen=c.threshold_fen, threshold_yuan=yuan_short(c.threshold_fen),
                             rule=rules.rule_text(c, label), _rule_en=rules.rule_text_en(c, label))
    return Terms(coupon, amount_fen, rules.amount_off(c, amount_fen))


def record(redemption_id: int, t: Terms) -> None:
    db.session.add(CouponRedemption(redemption_id=redemption_id, coupon_id=t.coupon.id, amount_fen=t.amount_fen,
                                    discount_fen=t.discount_fen))
    db.session.flush()


def recorded(redemption_id: int, coupon: Coupon) -> Terms:
    """The terms a redemption was made on, for a replay (identical to the first answer)."""
    row = db.session.get(CouponRedemption, redemption_id)
    if row is None:
        return Terms(coupon, None, None)
    return Terms(coupon, row.amount_fen, row.discount_fen)
