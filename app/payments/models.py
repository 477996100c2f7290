"""Payments and refunds: each its own state machine. Every paid fen ends as an order, a refund or a settlement."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import now_utc
from app.core.db import UTCDateTime, enum_column
from app.extensions import db


class PayMethod(str, enum.Enum):
    WECHAT = "wechat"    # WeChat Pay JSAPI
    SANDBOX = "sandbox"  # simulated online payment (embedded default)
    STORE = "store"      # pay at the store: the counter collects


class PaymentStatus(str, enum.Enum):
    CREATED = "created"  # waiting for the payer
    PAID = "paid"
    FAILED = "failed"    # the payer's attempt failed; a new attempt makes a new payment
    CLOSED = "closed"    # the order was cancelled before payment


PAYMENT_TRANSITIONS = {
    PaymentStatus.CREATED: {PaymentStatus.PAID, PaymentStatus.FAILED, PaymentStatus.CLOSED},
    PaymentStatus.FAILED: {PaymentStatus.PAID},  # a late success notification still wins: the money moved
    PaymentStatus.CLOSED: {PaymentStatus.PAID},  # paid after the order was cancelled: refunded automatically
    PaymentStatus.PAID: {PaymentStatus.CLOSED},  # only a pay-at-store collection, when its pickup is undone
}


class Payment(db.Model):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchants.id"))
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    provider: Mapped[PayMethod] = mapped_column(enum_column(PayMethod, "payment_provider"))
    out_trade_no: Mapped[str] = mapped_column(sa.String(32), unique=True)
    amount_fen: Mapped[int]
    status: Mapped[PaymentStatus] = mapped_column(enum_column(PaymentStatus, "payment_status"))
    transaction_id: Mapped[str | None] = mapped_column(sa.String(64))
    prepay_id: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A WeChat payment closed here is closed at WeChat too (after the commit, by `payments.close_remote`):
    # set once WeChat's order is closed (or was never made, or turned out paid and was applied). NULL on a
    # closed WeChat payment with no `remote_close_error`: still to do (the sweep finds it).
    closed_remote_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # WeChat refused to close it for good (not a transient failure): logged, recorded here, not retried.
    remote_close_error: Mapped[str | None] = mapped_column(sa.String(255))

    __table_args__ = (
        sa.CheckConstraint("amount_fen >= 0", name="amount_nonneg"),
        sa.CheckConstraint("closed_remote_at IS NULL OR remote_close_error IS NULL", name="remote_close_one_outcome"),
    )


class RefundStatus(str, enum.Enum):
    PENDING = "pending"        # recorded; the provider is asked outside the transaction, with retries
    PROCESSING = "processing"  # the provider accepted it; waiting for its result
    SUCCEEDED = "succeeded"
    FAILED = "failed"          # the provider refused for good; needs a person


REFUND_TRANSITIONS = {
    RefundStatus.PENDING: {RefundStatus.PROCESSING, RefundStatus.SUCCEEDED, RefundStatus.FAILED},
    RefundStatus.PROCESSING: {RefundStatus.SUCCEEDED, RefundStatus.FAILED},
    RefundStatus.SUCCEEDED: set(),
    RefundStatus.FAILED: set(),  # a person sorts it out with the customer; never retried by itself
}


class Refund(db.Model):
    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchants.id"))
    payment_id: Mapped[int] = mapped_column(sa.ForeignKey("payments.id"), index=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    out_refund_no: Mapped[str] = mapped_column(sa.String(32), unique=True)
    amount_fen: Mapped[int]
    reason: Mapped[str] = mapped_column(sa.String(255))
    status: Mapped[RefundStatus] = mapped_column(enum_column(RefundStatus, "refund_status"))
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A person asked again for a refund the provider refused for good: the new refund (its own number)
    # names the refused one, once (unique: two clicks cannot send it twice).
    retry_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("refunds.id"), unique=True)

    payment: Mapped[Payment] = relationship()

    __table_args__ = (sa.CheckConstraint("amount_fen > 0", name="amount_positive"),)


class ProcessedNotification(db.Model):
    """Each provider notification id is processed once; a redelivery finds its row and does nothing."""

    __tablename__ = "processed_notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(sa.String(16))
    notification_id: Mapped[str] = mapped_column(sa.String(64))
    event_type: Mapped[str] = mapped_column(sa.String(48))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    __table_args__ = (sa.UniqueConstraint("provider", "notification_id"),)
