"""What the shop shows of coupons: the campaigns open for claiming (all, or those for one product), and a
member's coupons with their rule and status."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.catalog.models import Product
from app.extensions import db
from app.coupons import rules
from app.coupons.claim import not_active, sku_label
from app.coupons import gifts as gifts_
from app.coupons.models import Campaign, CampaignCategory, CampaignProduct, CampaignStatus, Coupon, CouponGift
from app.vouchers.models import Voucher
from app.vouchers.service import effective_status


def _applies_to_product(product_id: int, category_id: int | None):
    """SQL: the campaign applies to this product (every product, the product itself, or its category)."""
    return sa.or_(
        Campaign.all_products.is_(True),
        sa.exists().where(CampaignProduct.campaign_id == Campaign.id, CampaignProduct.product_id == product_id),
        sa.exists().where(CampaignCategory.campaign_id == Campaign.id, CampaignCategory.category_id == category_id)
        if category_id is not None else sa.false(),
    )


def open_campaigns(merchant_id: int, now: datetime, *, product_id: int | None = None) -> list[Campaign]:
    """Active campaigns whose claim window has not closed (upcoming ones included: their page says when),
    newest first; with `product_id`, only those that apply to that product."""
    query = sa.select(Campaign).where(
        Campaign.merchant_id == merchant_id, Campaign.status == CampaignStatus.ACTIVE,
        sa.or_(Campaign.claim_ends_at.is_(None), Campaign.claim_ends_at > now),
        sa.or_(Campaign.valid_until.is_(None), Campaign.valid_until > now),
    ).order_by(Campaign.id.desc()).limit(100)
    if product_id is not None:
        category_id = db.session.execute(sa.select(Product.category_id).where(
            Product.id == product_id, Product.merchant_id == merchant_id)).scalar()
        query = query.where(_applies_to_product(product_id, category_id))
    return list(db.session.execute(query).scalars())


@dataclass(frozen=True)
class CampaignCard:
    """A campaign as a consumer's card shows it."""

    campaign: Campaign
    rule: str
    rule_en: str
    left: int | None  # None: unlimited
    refusal: object   # why it cannot be claimed now (a DomainError), or None

    @property
    def sold_out(self) -> bool:
        return self.left == 0


def card(campaign: Campaign, now: datetime) -> CampaignCard:
    label = sku_label(campaign)
    left = None if campaign.quota is None else max(0, campaign.quota - campaign.claimed)
    return CampaignCard(campaign, rules.rule_text(campaign, label), rules.rule_text_en(campaign, label), left,
                        not_active(campaign, now))


@dataclass(frozen=True)
class HeldCoupon:
    coupon: Coupon
    voucher: Voucher
    campaign: Campaign
    status: str  # the voucher's effective status: issued, partly_used, redeemed, expired, revoked, void
    gift: str | None = None  # its gift's status (pending, accepted, returned), if it was offered
    can_give: bool = False   # transferable, unused, never offered, not itself a gift

    @property
    def usable(self) -> bool:
        return self.status in ("issued", "partly_used") and self.gift != "accepted"


def coupons_of(member_id: int, now: datetime, limit: int = 200) -> list[HeldCoupon]:
    """The member's coupons, usable first, then newest first."""
    rows = db.session.execute(
        sa.select(Coupon).where(Coupon.member_id == member_id).order_by(Coupon.id.desc()).limit(limit)
    ).scalars().all()
    ids = [c.id for c in rows]
    gifts = {g.coupon_id: g for g in db.session.execute(
        sa.select(CouponGift).where(CouponGift.coupon_id.in_(ids))).scalars()} if ids else {}
    received = set(db.session.execute(
        sa.select(CouponGift.new_coupon_id).where(CouponGift.new_coupon_id.in_(ids))).scalars()) if ids else set()
    held = []
    for c in rows:
        status = effective_status(c.voucher, now)
        gift = gifts.get(c.id)
        gift_status = gifts_.status_of(gift, now).value if gift else None
        can_give = (c.campaign.transferable and gift is None and c.id not in received and status == "issued"
                    and c.voucher.uses_left == c.voucher.uses_total and c.order_id is None)
        held.append(HeldCoupon(c, c.voucher, c.campaign, status, gift_status, can_give))
    return sorted(held, key=lambda h: not h.usable)
