"""Group-buy campaigns, teams and seats.

A campaign sells one SKU at a group price to teams of `team_size` real, paying members: a team completes
only when every seat is paid (no robot or simulated members, ever). A team's counters decide every race in
the database: `seats_taken` (reserved + paid) and `paid_count` move by conditional UPDATEs under CHECKs
(0 <= paid_count <= seats_taken <= size), and a member holds one seat row per team (unique).
"""
from __future__ import annotations

import enum
from datetime import datetime

from itertools import chain

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.catalog.models import catalog_changed
from app.core.clock import now_utc
from app.core.db import UTCDateTime, enum_column
from app.core.i18n import N_
from app.extensions import db


class CampaignStatus(str, enum.Enum):
    DRAFT = "draft"    # not shown to shoppers
    ACTIVE = "active"  # open between starts_at and ends_at
    ENDED = "ended"    # stopped by the merchant: no new teams or joins; forming teams run to their deadline


class GroupBuyCampaign(db.Model):
    __tablename__ = "groupbuy_campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchants.id"), index=True)
    sku_id: Mapped[int] = mapped_column(sa.ForeignKey("skus.id"))
    title: Mapped[str] = mapped_column(sa.String(60))
    group_price_fen: Mapped[int]
    leader_price_fen: Mapped[int | None]  # 团长价; None: the leader pays the group price
    team_size: Mapped[int]
    time_limit_hours: Mapped[int]
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    stock_left: Mapped[int]  # seats the campaign may still sell (reserved and paid seats hold one each)
    per_member_limit: Mapped[int] = mapped_column(default=1, server_default="1")
    rules: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    status: Mapped[CampaignStatus] = mapped_column(enum_column(CampaignStatus, "groupbuy_campaign_status"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    # The pickup stores: stores of the campaign's merchant (app.groupbuys.console checks), one row each.
    store_links: Mapped[list["GroupBuyCampaignStore"]] = relationship(cascade="all, delete-orphan")

    __table_args__ = (
        sa.CheckConstraint("group_price_fen >= 0", name="group_price_nonneg"),
        sa.CheckConstraint("leader_price_fen IS NULL OR leader_price_fen >= 0", name="leader_price_nonneg"),
        sa.CheckConstraint("team_size >= 2 AND team_size <= 10", name="team_size_range"),
        sa.CheckConstraint("time_limit_hours >= 1", name="time_limit_positive"),
        sa.CheckConstraint("stock_left >= 0", name="stock_nonneg"),
        sa.CheckConstraint("per_member_limit >= 1", name="per_member_limit_positive"),
        sa.CheckConstraint("starts_at < ends_at", name="starts_before_ends"),
    )

    @property
    def pickup_store_ids(self) -> list[int]:
        return sorted(link.store_id for link in self.store_links)


class GroupBuyCampaignStore(db.Model):
    """A store where a campaign's teams pick up. Indexed by store too: "the campaigns picked up at store X"
    (a store manager's console list) is one index lookup."""

    __tablename__ = "groupbuy_campaign_stores"

    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("groupbuy_campaigns.id", ondelete="CASCADE"),
                                             primary_key=True)
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id"), primary_key=True, index=True)


class TeamStatus(str, enum.Enum):
    OPENING = "opening"    # 待开团: the leader's order waits for payment
    FORMING = "forming"    # 拼团中: the leader paid; the deadline runs
    COMPLETE = "complete"  # 拼团成功: every seat paid; every member's order is ready with its voucher
    FAILED = "failed"      # 拼团失败: the deadline came first; every paid member refunded
    CLOSED = "closed"      # 已关闭: the leader never paid, or every member left


TEAM_TRANSITIONS: dict[TeamStatus, set[TeamStatus]] = {
    TeamStatus.OPENING: {TeamStatus.FORMING, TeamStatus.CLOSED},
    TeamStatus.FORMING: {TeamStatus.COMPLETE, TeamStatus.FAILED, TeamStatus.CLOSED},
    TeamStatus.COMPLETE: set(),
    TeamStatus.FAILED: set(),
    TeamStatus.CLOSED: set(),
}

TEAM_LABELS = {TeamStatus.OPENING: N_("待开团"), TeamStatus.FORMING: N_("拼团中"), TeamStatus.COMPLETE: N_("拼团成功"),
               TeamStatus.FAILED: N_("拼团失败"), TeamStatus.CLOSED: N_("已关闭")}


class Team(db.Model):
    __tablename__ = "groupbuy_teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchants.id"))
    campaign_id: Mapped[int] = mapped_column(sa.ForeignKey("groupbuy_campaigns.id"), index=True)
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id"))  # where every member picks up
    leader_member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"))
    size: Mapped[int]
    seats_taken: Mapped[int] = mapped_column(default=0, server_default="0")
    paid_count: Mapped[int] = mapped_column(default=0, server_default="0")
    status: Mapped[TeamStatus] = mapped_column(enum_column(TeamStatus, "groupbuy_team_status"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.CheckConstraint("paid_count >= 0 AND paid_count <= seats_taken AND seats_taken <= size", name="seats_range"),
        sa.Index("ix_groupbuy_teams_status_deadline", "status", "deadline_at"),
    )

    @property
    def label(self) -> str:
        return TEAM_LABELS[self.status]


class SeatStatus(str, enum.Enum):
    RESERVED = "reserved"  # the member's order waits for payment (the shop's unpaid timeout)
    PAID = "paid"          # paid; refunded if the team fails
    LEFT = "left"          # paid, then left before the team completed: refunded
    RELEASED = "released"  # never paid in time (or called off): the seat is free again


SEAT_TRANSITIONS: dict[SeatStatus, set[SeatStatus]] = {
    SeatStatus.RESERVED: {SeatStatus.PAID, SeatStatus.RELEASED},
    SeatStatus.PAID: {SeatStatus.LEFT},
    SeatStatus.LEFT: set(),
    SeatStatus.RELEASED: {SeatStatus.RESERVED},  # the same member joins again
}


class Seat(db.Model):
    __tablename__ = "groupbuy_seats"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("groupbuy_teams.id"))
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders.id"), unique=True)
    status: Mapped[SeatStatus] = mapped_column(enum_column(SeatStatus, "groupbuy_seat_status"))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (sa.UniqueConstraint("team_id", "member_id", name="uq_groupbuy_seats_team_member"),)


# --- the catalog rev: the product page keeps the running group-buys in its snapshot (app.groupbuys.shelf) ----

SHOWN_ON_PRODUCT_PAGE = ("status", "starts_at", "ends_at", "team_size", "group_price_fen", "sku_id")


@event.listens_for(Session, "after_flush")
def _bump_catalog_rev(session: Session, _context) -> None:
    merchants = set()
    for obj in chain(session.new, session.dirty, session.deleted):
        if not isinstance(obj, GroupBuyCampaign):
            continue
        state = sa.inspect(obj)
        if obj in session.new or obj in session.deleted or any(
                state.attrs[name].history.has_changes() for name in SHOWN_ON_PRODUCT_PAGE):
            merchants.add(obj.merchant_id)
    if merchants:
        catalog_changed(merchants, session)
