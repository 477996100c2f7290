"""What the shop's group-buy pages show: a campaign (product, group price against the usual price, rules,
pickup stores, the teams forming that a shopper may join) and a team's share page (members' avatars and
empty seats, the time left, what the viewer may do)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.catalog.models import Product, Sku
from app.extensions import db
from app.groupbuys.models import GroupBuyCampaign, GroupBuyCampaignStore, Seat, SeatStatus, Team, TeamStatus
from app.groupbuys.service import running
from app.members.models import Member
from app.merchants.models import Store


@dataclass(frozen=True)
class SeatView:
    nickname: str
    avatar_url: str
    paid: bool
    leader: bool


@dataclass(frozen=True)
class CampaignView:
    campaign: GroupBuyCampaign
    product: Product
    sku: Sku
    stores: list[Store]
    running: bool

    @property
    def usual_fen(self) -> int:
        return self.sku.price_fen

    @property
    def saving_fen(self) -> int:
        return max(0, self.sku.price_fen - self.campaign.group_price_fen)


@dataclass(frozen=True)
class TeamView:
    team: Team
    info: CampaignView
    store: Store
    seats: list[SeatView]
    empty: int
    seconds_left: int | None
    viewer_seat: Seat | None

    @property
    def viewer_paid(self) -> bool:
        return self.viewer_seat is not None and self.viewer_seat.status is SeatStatus.PAID

    @property
    def viewer_in(self) -> bool:
        return self.viewer_seat is not None and self.viewer_seat.status in (SeatStatus.PAID, SeatStatus.RESERVED)

    @property
    def joinable(self) -> bool:
        return self.team.status is TeamStatus.FORMING and self.empty > 0 and not self.viewer_in


def campaign_view(campaign: GroupBuyCampaign, now: datetime) -> CampaignView:
    sku = db.session.get(Sku, campaign.sku_id)
    product = db.session.get(Product, sku.product_id)
    stores = list(db.session.execute(
        sa.select(Store).join(GroupBuyCampaignStore, GroupBuyCampaignStore.store_id == Store.id)
        .where(GroupBuyCampaignStore.campaign_id == campaign.id, Store.active.is_(True)).order_by(Store.id)).scalars())
    return CampaignView(campaign, product, sku, stores, running(campaign, now))


def forming_teams(campaign_id: int, limit: int = 10) -> list[Team]:
    """Teams a shopper may join now, the closest to their deadline first."""
    return list(db.session.execute(
        sa.select(Team).where(Team.campaign_id == campaign_id, Team.status == TeamStatus.FORMING,
                              Team.seats_taken < Team.size).order_by(Team.deadline_at, Team.id).limit(limit)).scalars())


def team_view(team: Team, viewer_id: int | None, now: datetime) -> TeamView:
    info = campaign_view(db.session.get(GroupBuyCampaign, team.campaign_id), now)
    rows = db.session.execute(
        sa.select(Seat, Member).join(Member, Member.id == Seat.member_id)
        .where(Seat.team_id == team.id, Seat.status.in_([SeatStatus.RESERVED, SeatStatus.PAID]))
        .order_by(Seat.paid_at.is_(None), Seat.paid_at, Seat.id)).all()
    seats = [SeatView(member.display_name, member.avatar_url, seat.status is SeatStatus.PAID,
                      member.id == team.leader_member_id) for seat, member in rows]
    seats.sort(key=lambda s: not s.leader)
    viewer = None
    if viewer_id is not None:
        viewer = db.session.execute(sa.select(Seat).where(Seat.team_id == team.id, Seat.member_id == viewer_id)
                                    ).scalar_one_or_none()
    left = None
    if team.status is TeamStatus.FORMING and team.deadline_at is not None:
        left = max(0, int((team.deadline_at - now).total_seconds()))
    return TeamView(team, info, db.session.get(Store, team.store_id), seats, max(0, team.size - len(seats)),
                    left, viewer)
