"""Pre-sale campaigns and the orders they sold.

A campaign sells one SKU at `full_price_fen`: a deposit (定金) in the deposit window that counts as
`deposit_value_fen` (定金膨胀, never less than the deposit) toward the price, and the balance (尾款 = full
price less the deposit's value) in the balance window, which starts no earlier than the deposit window
ends. `stock_left` is taken by a conditional UPDATE when a deposit order is placed (never below zero, a
CHECK behind it) and given back when that order is cancelled unpaid or its balance is missed.
"""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import now_utc
from app.core.db import UTCDateTime, enum_column
from app.core.i18n import N_
from app.extensions import db


class CampaignStatus(str, enum.Enum):
    DRAFT = "draft"    # not shown to shoppers
    ACTIVE = "active"  # deposits taken in the deposit window, balances in the balance window
    ENDED = "ended"    # stopped by the merchant: no new deposits; deposits already paid run their course


class MissedBalance(str, enum.Enum):
    FORFEIT = "forfeit"  # 定金不退
    REFUND = "refund"    # 定金自动原路退回


MISSED_LABELS = {MissedBalance.FORFEIT: N_("未付尾款定金不退"), MissedBalance.REFUND: N_("未付尾款定金自动原路退回")}
STATUS_LABELS = {CampaignStatus.DRAFT: N_("草稿"), CampaignStatus.ACTIVE: N_("进行中"), CampaignStatus.ENDED: N_("已结束")}


class PresaleCampaign(db.Model):
    __tablename__ = "presale_campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchants.id"), index=True)
    sku_id: Mapped[int] = mapped_column(sa.ForeignKey("skus.id"))
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id"))  # where it is picked up
    title: Mapped[str] = mapped_column(sa.String(60))
    full_price_fen: Mapped[int]
    deposit_fen: Mapped[int]
    deposit_value_fen: Mapped[int]
    deposit_starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deposit_ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    balance_starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    balance_ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    pickup_from: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a date (its start, Shanghai) ...
    pickup_after_days: Mapped[int | None]                              # ... or N days after the balance
    stock_total: Mapped[int]
    stock_left: Mapped[int]
    per_member_limit: Mapped[int] = mapped_column(default=1, server_default="1")
    missed_balance: Mapped[MissedBalance] = mapped_column(enum_column(MissedBalance, "presale_missed_balance"))
    coupons_on_balance: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    rules: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    status: Mapped[CampaignStatus] = mapped_column(enum_column(CampaignStatus, "presale_campaign_status"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    __table_args__ = (
        sa.CheckConstraint("deposit_fen > 0", name="deposit_positive"),
        sa.CheckConstraint("deposit_value_fen >= deposit_fen", name="value_at_least_deposit"),
        sa.CheckConstraint("deposit_value_fen < full_price_fen", name="value_below_price"),
        sa.CheckConstraint("deposit_starts_at < deposit_ends_at", name="deposit_window"),
        sa.CheckConstraint("balance_starts_at < balance_ends_at", name="balance_window"),
        sa.CheckConstraint("deposit_ends_at <= balance_starts_at", name="deposit_before_balance"),
        sa.CheckConstraint("(pickup_from IS NULL) <> (pickup_after_days IS NULL)", name="one_pickup_rule"),
        sa.CheckConstraint("pickup_after_days IS NULL OR pickup_after_days >= 0", name="pickup_days_nonneg"),
        sa.CheckConstraint("stock_left >= 0 AND stock_left <= stock_total", name="stock_range"),
        sa.CheckConstraint("per_member_limit >= 1", name="per_member_limit_positive"),
    )

    @property
    def balance_fen(self) -> int:
        """尾款 per unit: the full price less what the deposit counts for."""
        return self.full_price_fen - self.deposit_value_fen


class PresaleOrderStatus(str, enum.Enum):
    PLACED = "placed"              # 待付定金
    DEPOSIT_PAID = "deposit_paid"  # 待付尾款
    BALANCE_PAID = "balance_paid"  # 已付尾款: the order is ready with its voucher
    MISSED = "missed"              # 未付尾款: handled by the campaign's rule (forfeited or refunded)
    CANCELLED = "cancelled"        # the deposit never paid


PRESALE_TRANSITIONS = {
    PresaleOrderStatus.PLACED: {PresaleOrderStatus.DEPOSIT_PAID, PresaleOrderStatus.CANCELLED},
    PresaleOrderStatus.DEPOSIT_PAID: {PresaleOrderStatus.BALANCE_PAID, PresaleOrderStatus.MISSED},
    PresaleOrderStatus.BALANCE_PAID: set(),
    PresaleOrderStatus.MISSED: set(),
    PresaleOrderStatus.CANCELLED: set(),
}
PRESALE_LABELS = {PresaleOrderStatus.PLACED: N_("待付定金"), PresaleOrderStatus.DEPOSIT_PAID: N_("待付尾款"),
                  PresaleOrderStatus.BALANCE_PAID: N_("已付尾款"), PresaleOrderStatus.MISSED: N_("未付尾款"),
                  PresaleOrderStatus.CANCELLED: N_("已取消")}


class PresaleOrder(db.Model):
    """Which campaign an order was sold by, and where it stands in the campaign (the order keeps its money)."""

    __tablename__ = "presale_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id"), unique=True)
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("presale_campaigns.id"), index=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True)
    quantity: Mapped[int]
    status: Mapped[PresaleOrderStatus] = mapped_column(enum_column(PresaleOrderStatus, "presale_order_status"))
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # told the balance window is open
    missed_rule: Mapped[MissedBalance | None] = mapped_column(enum_column(MissedBalance, "presale_missed_rule"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.Index("ix_presale_orders_campaign_status", "campaign_id", "status"),
    )
