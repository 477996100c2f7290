"""Merchants, their stores, their staff and their API keys."""
from __future__ import annotations

import enum
import secrets
from datetime import datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import now_utc
from app.core.db import UTCDateTime, enum_column
from app.extensions import db


def new_catalog_rev() -> int:
    return secrets.randbits(62)


class Merchant(db.Model):
    __tablename__ = "merchants"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    slug: Mapped[str] = mapped_column(sa.String(60), unique=True)
    # Counter rules, per merchant.
    undo_window_minutes: Mapped[int] = mapped_column(default=30, server_default="30")
    # Unpaid orders are cancelled (and their stock returned) after this many minutes.
    unpaid_cancel_minutes: Mapped[int] = mapped_column(default=15, server_default="15")
    # 1 point per this many fen paid (100: one point per yuan).
    fen_per_point: Mapped[int] = mapped_column(default=100, server_default="100")
    rotate_qr: Mapped[bool] = mapped_column(default=True, server_default=sa.text("true"))
    # Pickup times offered at checkout, every this many minutes (app.merchants.hours.pickup_slots).
    pickup_slot_minutes: Mapped[int] = mapped_column(default=30, server_default="30")
    # Replaced whenever the shop's view of this merchant's catalog changes (app.catalog.snapshot).
    catalog_rev: Mapped[int] = mapped_column(sa.BigInteger, default=new_catalog_rev, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    stores: Mapped[list["Store"]] = relationship(back_populates="merchant", order_by="Store.id")

    __table_args__ = (
        sa.CheckConstraint("undo_window_minutes >= 0", name="undo_window_nonneg"),
        sa.CheckConstraint("unpaid_cancel_minutes > 0", name="unpaid_cancel_positive"),
        sa.CheckConstraint("fen_per_point > 0", name="fen_per_point_positive"),
        sa.CheckConstraint("pickup_slot_minutes IN (15, 20, 30, 60)", name="pickup_slot_minutes_divides_hour"),
    )


class Store(db.Model):
    __tablename__ = "stores"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchants.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    city: Mapped[str] = mapped_column(sa.String(60))
    address: Mapped[str] = mapped_column(sa.String(255))
    latitude: Mapped[float] = mapped_column(sa.Float)
    longitude: Mapped[float] = mapped_column(sa.Float)
    opens_at: Mapped[time] = mapped_column(sa.Time)
    closes_at: Mapped[time] = mapped_column(sa.Time)
    phone: Mapped[str] = mapped_column(sa.String(32))
    # 门店配送: deliver within this many metres; 0 means pickup only.
    delivery_radius_m: Mapped[int] = mapped_column(default=0, server_default="0")
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.text("true"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    merchant: Mapped[Merchant] = relationship(back_populates="stores")

    __table_args__ = (
        sa.CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_range"),
        sa.CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_range"),
        sa.CheckConstraint("delivery_radius_m >= 0", name="delivery_radius_nonneg"),
    )

    @property
    def hours_text(self) -> str:
        return f"{self.opens_at:%H:%M}–{self.closes_at:%H:%M}"


class Role(str, enum.Enum):
    OWNER = "owner"
    OPERATOR = "operator"
    STORE_MANAGER = "store_manager"
    CASHIER = "cashier"

    @property
    def needs_store(self) -> bool:
        return self in (Role.STORE_MANAGER, Role.CASHIER)


ROLE_LABELS = {Role.OWNER: "店主", Role.OPERATOR: "运营", Role.STORE_MANAGER: "店长", Role.CASHIER: "收银员"}


class Staff(db.Model):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchants.id"), index=True)
    store_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stores.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    username: Mapped[str] = mapped_column(sa.String(60), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(enum_column(Role, "staff_role"))
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.text("true"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    store: Mapped[Store | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint(
            "role NOT IN ('store_manager', 'cashier') OR store_id IS NOT NULL", name="store_roles_have_store"
        ),
    )


class KeyKind(str, enum.Enum):
    MERCHANT = "merchant"
    COUNTER = "counter"


class ApiKey(db.Model):
    """A bearer key. Only its SHA-256 is kept; the key itself is shown once, when created."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchants.id"), index=True)
    store_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stores.id"))
    kind: Mapped[KeyKind] = mapped_column(enum_column(KeyKind, "api_key_kind"))
    name: Mapped[str] = mapped_column(sa.String(80))
    prefix: Mapped[str] = mapped_column(sa.String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When a request last came with it, to the minute (app.merchants.service.authenticate_key).
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    store: Mapped[Store | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("kind <> 'counter' OR store_id IS NOT NULL", name="counter_keys_have_store"),
    )


class AuditEvent(db.Model):
    """One console change: who (and in which role), what, to which object, a before/after summary, from which
    address, when. Append-only: written in the same transaction as the change (app.merchants.audit), never
    updated or deleted (the ORM refuses it)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchants.id"))
    staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff.id"))
    role: Mapped[str] = mapped_column(sa.String(24))
    action: Mapped[str] = mapped_column(sa.String(40))
    object_type: Mapped[str] = mapped_column(sa.String(24))
    object_id: Mapped[int | None]
    before: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    ip: Mapped[str] = mapped_column(sa.String(45), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    staff: Mapped[Staff | None] = relationship()

    __table_args__ = (sa.Index("ix_audit_events_merchant_created", "merchant_id", "created_at"),)
