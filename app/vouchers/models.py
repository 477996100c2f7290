"""Vouchers, the stores that accept them, their redemptions and their append-only event ledger."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import now_utc
from app.core.db import UTCDateTime, enum_column
from app.extensions import db


class VoucherStatus(str, enum.Enum):
    ISSUED = "issued"            # no use taken yet
    PARTLY_USED = "partly_used"  # a multi-use card with uses left
    REDEEMED = "redeemed"        # no uses left
    EXPIRED = "expired"          # marked by a job; validity is also checked on every redeem
    REVOKED = "revoked"          # by the merchant, with a reason
    VOID = "void"                # its order was refunded


USABLE = (VoucherStatus.ISSUED, VoucherStatus.PARTLY_USED)

# The state machine: which statuses each status may move to.
TRANSITIONS: dict[VoucherStatus, set[VoucherStatus]] = {
    VoucherStatus.ISSUED: {VoucherStatus.PARTLY_USED, VoucherStatus.REDEEMED, VoucherStatus.EXPIRED,
                           VoucherStatus.REVOKED, VoucherStatus.VOID},
    VoucherStatus.PARTLY_USED: {VoucherStatus.PARTLY_USED, VoucherStatus.REDEEMED, VoucherStatus.ISSUED,
                                VoucherStatus.EXPIRED, VoucherStatus.REVOKED, VoucherStatus.VOID},
    VoucherStatus.REDEEMED: {VoucherStatus.PARTLY_USED, VoucherStatus.ISSUED},  # only by undo
    VoucherStatus.EXPIRED: {VoucherStatus.VOID},  # a paid order never picked up can still be refunded
    VoucherStatus.REVOKED: set(),
    VoucherStatus.VOID: set(),
}


class VoucherSource(str, enum.Enum):
    ORDER = "order"
    COUPON = "coupon"
    GROUPBUY = "groupbuy"
    PRESALE = "presale"
    API = "api"
    DEMO = "demo"


class Voucher(db.Model):
    __tablename__ = "vouchers"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchants.id"))
    # Normalised short code (no dashes); unique across merchants so a typed code names one voucher.
    code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    title: Mapped[str] = mapped_column(sa.String(120))
    handover: Mapped[str] = mapped_column(sa.String(255), default="", server_default="")
    value_fen: Mapped[int | None]
    note: Mapped[str] = mapped_column(sa.String(255), default="", server_default="")
    source: Mapped[VoucherSource] = mapped_column(enum_column(VoucherSource, "voucher_source"))
    source_ref: Mapped[str | None] = mapped_column(sa.String(64))
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"), index=True)
    status: Mapped[VoucherStatus] = mapped_column(enum_column(VoucherStatus, "voucher_status"))
    uses_total: Mapped[int]
    uses_left: Mapped[int]
    min_interval_seconds: Mapped[int | None]
    next_use_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # exclusive
    all_stores: Mapped[bool] = mapped_column(default=True, server_default=sa.text("true"))
    static_qr: Mapped[bool] = mapped_column(default=False, server_default=sa.text("false"))
    revoke_reason: Mapped[str | None] = mapped_column(sa.String(255))
    # A reissued voucher names the one it replaces (revoked, or lost and ended by the reissue): one
    # replacement per voucher, which the unique constraint decides when two people reissue at once.
    replaces_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vouchers.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    store_links: Mapped[list["VoucherStore"]] = relationship(cascade="all, delete-orphan")

    __table_args__ = (
        sa.CheckConstraint("uses_total >= 1", name="uses_total_positive"),
        sa.CheckConstraint("uses_left >= 0 AND uses_left <= uses_total", name="uses_left_range"),
        sa.CheckConstraint("value_fen IS NULL OR value_fen >= 0", name="value_nonneg"),
        sa.CheckConstraint("min_interval_seconds IS NULL OR min_interval_seconds > 0", name="interval_positive"),
        sa.CheckConstraint("valid_until IS NULL OR valid_until > valid_from", name="validity_order"),
        sa.CheckConstraint("status <> 'redeemed' OR uses_left = 0", name="redeemed_has_no_uses"),
        sa.Index("ix_vouchers_merchant_status", "merchant_id", "status"),
        # An issuing system's reference names one voucher: a retried issue finds it instead of a twin.
        sa.UniqueConstraint("merchant_id", "source", "source_ref"),
    )

    @property
    def store_ids(self) -> list[int]:
        return sorted(link.store_id for link in self.store_links)

    @property
    def leads_with_goods(self) -> bool:
        """A shop order's voucher: its holder thinks of it as what they bought, so their pages lead with the
        goods (`handover`, e.g. 拿铁（中杯）×2、可颂（原味）×1) and put the title (store, order number) below.
        The counter and the API keep the title as the title."""
        return self.source is VoucherSource.ORDER and bool(self.handover)

    @property
    def holder_heading(self) -> str:
        return self.handover if self.leads_with_goods else self.title


class VoucherStore(db.Model):
    __tablename__ = "voucher_stores"

    voucher_id: Mapped[int] = mapped_column(sa.ForeignKey("vouchers.id", ondelete="CASCADE"), primary_key=True)
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id"), primary_key=True)


class Redemption(db.Model):
    """One redeem at a counter. Undone in place (undone_at); never deleted."""

    __tablename__ = "redemptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    voucher_id: Mapped[int] = mapped_column(sa.ForeignKey("vouchers.id"), index=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchants.id"))
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id"))
    staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff.id"))
    api_key_id: Mapped[int | None] = mapped_column(sa.ForeignKey("api_keys.id"))
    device_id: Mapped[str] = mapped_column(sa.String(64), default="", server_default="")
    uses: Mapped[int]
    # The retry key: the same key at the same store returns the first answer.
    idempotency_key: Mapped[str] = mapped_column(sa.String(64))
    redeemed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # next_use_at before this redeem, restored by undo.
    prev_next_use_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    uses_left_after: Mapped[int | None]
    status_after: Mapped[str | None] = mapped_column(sa.String(24))
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_by_staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff.id"))
    undo_reason: Mapped[str | None] = mapped_column(sa.String(255))

    voucher: Mapped[Voucher] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("store_id", "idempotency_key"),
        sa.CheckConstraint("uses >= 1", name="uses_positive"),
        sa.Index("ix_redemptions_store_time", "store_id", "redeemed_at"),
    )


class EventKind(str, enum.Enum):
    ISSUED = "issued"
    REDEEMED = "redeemed"
    UNDONE = "undone"
    REVOKED = "revoked"
    VOIDED = "voided"
    EXPIRED = "expired"


class VoucherEvent(db.Model):
    """Append-only ledger: every transition of every voucher, with who, where, which device and why."""

    __tablename__ = "voucher_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    voucher_id: Mapped[int] = mapped_column(sa.ForeignKey("vouchers.id"), index=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchants.id"))
    kind: Mapped[EventKind] = mapped_column(enum_column(EventKind, "voucher_event_kind"))
    status_before: Mapped[str | None] = mapped_column(sa.String(24))
    status_after: Mapped[str] = mapped_column(sa.String(24))
    uses_delta: Mapped[int] = mapped_column(default=0, server_default="0")
    redemption_id: Mapped[int | None] = mapped_column(sa.ForeignKey("redemptions.id"))
    store_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stores.id"))
    staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff.id"))
    api_key_id: Mapped[int | None] = mapped_column(sa.ForeignKey("api_keys.id"))
    device_id: Mapped[str] = mapped_column(sa.String(64), default="", server_default="")
    reason: Mapped[str] = mapped_column(sa.String(255), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
