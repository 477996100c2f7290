"""Each campaign's figures for the console's list, counted by the database (one GROUP BY per figure):

- claimed: the campaign's own counter (every coupon claimed or issued);
- used_online: coupons spent on an order that still holds them (a cancelled or wholly refunded order gave
  its coupon back, so it no longer counts);
- used_counter: coupon redemptions at the counter not undone (a punch card counts each use);
- discount_fen: what coupons took off: their order lines' coupon adjustments, less nothing for refunds (the
  adjustment stays with the line), plus the discounts recorded at the counter;
- sales_fen: what the orders that used them came to, less what was refunded;
- redemption rate: coupons used (online, or at least once at the counter) per coupon claimed.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from app.coupons.models import Campaign, Coupon, CouponRedemption
from app.extensions import db
from app.orders.models import Order, OrderLine, OrderLineAdjustment
from app.pricing import AdjustmentKind
from app.vouchers.models import Redemption


@dataclass
class CampaignFigures:
    claimed: int = 0
    used_online: int = 0
    used_counter: int = 0
    coupons_used_at_counter: int = 0
    discount_fen: int = 0
    sales_fen: int = 0

    @property
    def redemption_rate(self) -> float | None:
        if not self.claimed:
            return None
        return (self.used_online + self.coupons_used_at_counter) / self.claimed


def figures(campaign_ids: list[int]) -> dict[int, CampaignFigures]:
    out = {cid: CampaignFigures() for cid in campaign_ids}
    if not campaign_ids:
        return out
    for cid, claimed in db.session.execute(sa.select(Campaign.id, Campaign.claimed).where(Campaign.id.in_(campaign_ids))):
        out[cid].claimed = claimed
    online = (sa.select(Coupon.campaign_id, sa.func.count(), sa.func.coalesce(sa.func.sum(Order.total_fen - Order.refunded_fen), 0))
              .join(Order, Order.id == Coupon.order_id).where(Coupon.campaign_id.in_(campaign_ids))
              .group_by(Coupon.campaign_id))
    for cid, n, sales in db.session.execute(online):
        out[cid].used_online, out[cid].sales_fen = n, int(sales)
    off_online = (sa.select(Coupon.campaign_id, sa.func.coalesce(sa.func.sum(OrderLineAdjustment.amount_fen), 0))
                  .join(OrderLine, OrderLine.order_id == Coupon.order_id)
                  .join(OrderLineAdjustment, OrderLineAdjustment.order_line_id == OrderLine.id)
                  .where(Coupon.campaign_id.in_(campaign_ids), OrderLineAdjustment.kind == AdjustmentKind.COUPON)
                  .group_by(Coupon.campaign_id))
    for cid, fen in db.session.execute(off_online):
        out[cid].discount_fen += int(fen)
    counter = (sa.select(Coupon.campaign_id, sa.func.count(), sa.func.count(sa.distinct(Coupon.id)),
                         sa.func.coalesce(sa.func.sum(CouponRedemption.discount_fen), 0))
               .join(CouponRedemption, CouponRedemption.coupon_id == Coupon.id)
               .join(Redemption, Redemption.id == CouponRedemption.redemption_id)
               .where(Coupon.campaign_id.in_(campaign_ids), Redemption.undone_at.is_(None))
               .group_by(Coupon.campaign_id))
    for cid, uses, coupons, fen in db.session.execute(counter):
        out[cid].used_counter, out[cid].coupons_used_at_counter = uses, coupons
        out[cid].discount_fen += int(fen)
    return out
