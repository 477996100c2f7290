"""Members: one per person per merchant, identified by WeChat openid (and unionid when bound) plus phone."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import now_utc
from app.core.db import UTCDateTime
from app.extensions import db


class Member(db.Model):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchants.id"), index=True)
    openid: Mapped[str | None] = mapped_column(sa.String(64))
    unionid: Mapped[str | None] = mapped_column(sa.String(64))
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    nickname: Mapped[str] = mapped_column(sa.String(64), default="", server_default="")
    avatar_url: Mapped[str] = mapped_column(sa.String(512), default="", server_default="")
    # Balance of the points ledger; changed only together with a PointsEntry.
    points: Mapped[int] = mapped_column(default=0, server_default="0")
    is_demo: Mapped[bool] = mapped_column(default=False, server_default=sa.text("false"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    __table_args__ = (
        sa.UniqueConstraint("merchant_id", "openid"),
        sa.UniqueConstraint("merchant_id", "unionid"),
        sa.UniqueConstraint("merchant_id", "phone"),
        sa.CheckConstraint("points >= 0", name="points_nonneg"),
    )

    @property
    def display_name(self) -> str:
        """The one name every screen uses for this member (shop, counter, refusals): app.members.service.name_of."""
        return self.nickname or (f"会员{self.id}")


class PointsEntry(db.Model):
    """Append-only points ledger. `ref` names the cause once (e.g. "payment:12:earn"), so a retried job
    or a twice-delivered notification cannot earn twice."""

    __tablename__ = "points_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True)
    delta: Mapped[int]
    balance_after: Mapped[int]
    reason: Mapped[str] = mapped_column(sa.String(120))
    ref: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    __table_args__ = (
        sa.UniqueConstraint("member_id", "ref"),
        sa.CheckConstraint("balance_after >= 0", name="balance_nonneg"),
    )


MAX_CODE_ATTEMPTS = 5


class PhoneCode(db.Model):
    """A text message code sent to bind a phone number (app.members.phone): only its HMAC is kept, with
    when it expires, how many tries it has had and when it was used (or replaced by a newer one)."""

    __tablename__ = "phone_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True)
    phone: Mapped[str] = mapped_column(sa.String(20))
    code_mac: Mapped[str] = mapped_column(sa.String(64))
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.CheckConstraint(f"attempts BETWEEN 0 AND {MAX_CODE_ATTEMPTS}", name="attempts_range"),
    )

