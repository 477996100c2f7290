"""Campaigns (券活动), what they apply to, the claimed coupons (each one a voucher) and per-member counters."""
from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import now_utc
from app.core.db import UTCDateTime, enum_column
from app.core.i18n import N_
from app.extensions import db
from app.vouchers.models import Voucher


class CampaignType(str, enum.Enum):
    CASH_OFF = "cash_off"    # 立减: value_fen off
    THRESHOLD = "threshold"  # 满减: value_fen off when the applicable amount >= threshold_fen
    PERCENT = "percent"      # 折扣: percent_off % off, rounded down to the fen, at most cap_fen
    EXCHANGE = "exchange"    # 兑换券: one sku_id handed over
    PUNCH = "punch"          # 次卡: `uses` hand-overs of sku_id, optionally min_interval_minutes apart


TYPE_LABELS = {
    CampaignType.CASH_OFF: N_("立减券"), CampaignType.THRESHOLD: N_("满减券"), CampaignType.PERCENT: N_("折扣券"),
    CampaignType.EXCHANGE: N_("兑换券"), CampaignType.PUNCH: N_("次卡"),
}

# Types that take money off a bill; the others hand over an item.
MONEY_TYPES = (CampaignType.CASH_OFF, CampaignType.THRESHOLD, CampaignType.PERCENT)


class CampaignStatus(str, enum.Enum):
    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


STATUS_LABELS = {CampaignStatus.DRAFT: N_("草稿"), CampaignStatus.ACTIVE: N_("进行中"),
                 CampaignStatus.PAUSED: N_("已暂停"), CampaignStatus.ENDED: N_("已结束")}

TRANSITIONS: dict[CampaignStatus, set[CampaignStatus]] = {
    CampaignStatus.DRAFT: {CampaignStatus.ACTIVE, CampaignStatus.ENDED},
    CampaignStatus.ACTIVE: {CampaignStatus.PAUSED, CampaignStatus.ENDED},
    CampaignStatus.PAUSED: {CampaignStatus.ACTIVE, CampaignStatus.ENDED},
    CampaignStatus.ENDED: set(),
}


class Campaign(db.Model):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchants.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    rules_text: Mapped[str] = mapped_column(sa.String(500), default="", server_default="")
    type: Mapped[CampaignType] = mapped_column(enum_column(CampaignType, "campaign_type"))
    value_fen: Mapped[int | None]
    threshold_fen: Mapped[int | None]
    percent_off: Mapped[int | None]
    cap_fen: Mapped[int | None]
    sku_id: Mapped[int | None] = mapped_column(sa.ForeignKey("skus.id"))
    uses: Mapped[int] = mapped_column(default=1, server_default="1")
    min_interval_minutes: Mapped[int | None]
    # Quota: None is unlimited, still counted in `claimed` (the conditional increment decides a claim).
    quota: Mapped[int | None]
    claimed: Mapped[int] = mapped_column(default=0, server_default="0")
    per_member: Mapped[int | None]
    per_member_per_day: Mapped[int | None]  # per Asia/Shanghai day
    claim_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the scheduled start
    claim_ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)    # the scheduled end (exclusive)
    # Validity: fixed [valid_from, valid_until), or days_after_claim (until 23:59:59 Shanghai of the last day).
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    days_after_claim: Mapped[int | None]
    all_stores: Mapped[bool] = mapped_column(default=True, server_default=sa.text("true"))
    all_products: Mapped[bool] = mapped_column(default=True, server_default=sa.text("true"))
    online: Mapped[bool] = mapped_column(default=True, server_default=sa.text("true"))
    counter: Mapped[bool] = mapped_column(default=True, server_default=sa.text("true"))
    with_member_price: Mapped[bool] = mapped_column(default=True, server_default=sa.text("true"))
    transferable: Mapped[bool] = mapped_column(default=False, server_default=sa.text("false"))
    status: Mapped[CampaignStatus] = mapped_column(enum_column(CampaignStatus, "campaign_status"))
    request_no: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    # Loaded when read (a claim never needs them: the claim statement reads campaign_stores itself).
    store_links: Mapped[list["CampaignStore"]] = relationship(cascade="all, delete-orphan")
    product_links: Mapped[list["CampaignProduct"]] = relationship(cascade="all, delete-orphan")
    category_links: Mapped[list["CampaignCategory"]] = relationship(cascade="all, delete-orphan")

    __table_args__ = (
        sa.CheckConstraint("claimed >= 0 AND (quota IS NULL OR claimed <= quota)", name="claimed_within_quota"),
        sa.CheckConstraint("quota IS NULL OR quota >= 0", name="quota_nonneg"),
        sa.CheckConstraint("per_member IS NULL OR per_member >= 1", name="per_member_positive"),
        sa.CheckConstraint("per_member_per_day IS NULL OR per_member_per_day >= 1", name="per_day_positive"),
        sa.CheckConstraint("value_fen IS NULL OR value_fen > 0", name="value_positive"),
        sa.CheckConstraint("threshold_fen IS NULL OR threshold_fen > 0", name="threshold_positive"),
        sa.CheckConstraint("percent_off IS NULL OR (percent_off >= 1 AND percent_off <= 99)", name="percent_range"),
        sa.CheckConstraint("cap_fen IS NULL OR cap_fen > 0", name="cap_positive"),
        sa.CheckConstraint("uses >= 1", name="uses_positive"),
        sa.CheckConstraint("(days_after_claim IS NULL) <> (valid_until IS NULL)", name="one_validity"),
        sa.CheckConstraint("days_after_claim IS NULL OR days_after_claim >= 1", name="days_positive"),
        sa.UniqueConstraint("merchant_id", "request_no"),
    )

    @property
    def store_ids(self) -> list[int]:
        return sorted(link.store_id for link in self.store_links)

    @property
    def product_ids(self) -> list[int]:
        return sorted(link.product_id for link in self.product_links)

    @property
    def category_ids(self) -> list[int]:
        return sorted(link.category_id for link in self.category_links)

    @property
    def type_label(self) -> str:
        return TYPE_LABELS[self.type]

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


class CampaignStore(db.Model):
    __tablename__ = "campaign_stores"

    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id"), primary_key=True)


class CampaignProduct(db.Model):
    __tablename__ = "campaign_products"

    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"), primary_key=True)


class CampaignCategory(db.Model):
    __tablename__ = "campaign_categories"

    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("categories.id"), primary_key=True)


class MemberClaims(db.Model):
    """How many coupons of a campaign a member has claimed, in all and on `day` (Asia/Shanghai): the
    per-member and per-day limits are conditional increments of this row, never a count read first."""

    __tablename__ = "campaign_member_claims"

    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), primary_key=True)
    claimed: Mapped[int]
    day: Mapped[date]
    day_claimed: Mapped[int]

    __table_args__ = (
        sa.CheckConstraint("claimed >= 1", name="claimed_positive"),
        sa.CheckConstraint("day_claimed >= 1 AND day_claimed <= claimed", name="day_claimed_range"),
    )


class Coupon(db.Model):
    """A claimed coupon: the voucher it is (code, QR, counter, ledger) tied to its campaign and owner.
    `order_id` is the order that used it online (set by one conditional UPDATE; cleared when it comes back)."""

    __tablename__ = "coupons"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchants.id"))
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("campaigns.id"), index=True)
    voucher_id: Mapped[int] = mapped_column(sa.ForeignKey("vouchers.id"), unique=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    request_no: Mapped[str | None] = mapped_column(sa.String(64))  # a grant's retry key
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    campaign: Mapped[Campaign] = relationship(lazy="joined")
    voucher: Mapped[Voucher] = relationship(lazy="joined")

    __table_args__ = (sa.UniqueConstraint("campaign_id", "request_no"),)


class CouponRedemption(db.Model):
    """A coupon redeemed at the counter: the bill it was used on and what it took off, written with the
    redemption, so a retried redeem answers the same discount and the campaign's figures can sum it."""

    __tablename__ = "coupon_redemptions"

    redemption_id: Mapped[int] = mapped_column(sa.ForeignKey("redemptions.id"), primary_key=True)
    coupon_id: Mapped[int] = mapped_column(sa.ForeignKey("coupons.id"), index=True)
    amount_fen: Mapped[int | None]  # the bill the cashier entered (threshold and percent coupons need it)
    discount_fen: Mapped[int | None]  # None: an item handed over (exchange, punch), no money off

    __table_args__ = (
        sa.CheckConstraint("discount_fen IS NULL OR discount_fen >= 0", name="discount_nonneg"),
        sa.CheckConstraint("amount_fen IS NULL OR (amount_fen >= 0 AND discount_fen <= amount_fen)",
                           name="discount_within_amount"),
    )


class GiftStatus(str, enum.Enum):
    PENDING = "pending"     # the link is out; the giver's coupon still works until a friend accepts
    ACCEPTED = "accepted"   # the friend holds a new coupon (new code); the giver's was voided at that moment
    RETURNED = "returned"   # not accepted within GIFT_HOURS (or the giver used it meanwhile): it stays theirs


GIFT_TRANSITIONS: dict[GiftStatus, set[GiftStatus]] = {
    GiftStatus.PENDING: {GiftStatus.ACCEPTED, GiftStatus.RETURNED},
    GiftStatus.ACCEPTED: set(),
    GiftStatus.RETURNED: set(),
}


class CouponGift(db.Model):
    """转赠: one offer per coupon (the unique coupon_id: a coupon is given once), by a link with a random token."""

    __tablename__ = "coupon_gifts"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchants.id"))
    coupon_id: Mapped[int] = mapped_column(sa.ForeignKey("coupons.id"), unique=True)
    giver_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True)
    token: Mapped[str] = mapped_column(sa.String(32), unique=True)
    status: Mapped[GiftStatus] = mapped_column(enum_column(GiftStatus, "gift_status"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    receiver_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    new_coupon_id: Mapped[int | None] = mapped_column(sa.ForeignKey("coupons.id"))

    __table_args__ = (
        sa.CheckConstraint("status <> 'accepted' OR (receiver_id IS NOT NULL AND new_coupon_id IS NOT NULL)",
                           name="accepted_has_receiver"),
        sa.Index("ix_coupon_gifts_status_expires", "status", "expires_at"),
    )
