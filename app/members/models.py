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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    __table_args__ = (
        sa.UniqueConstraint("merchant_id", "openid"),
        sa.UniqueConstraint("merchant_id", "unionid"),
        sa.UniqueConstraint("merchant_id", "phone"),
    )
