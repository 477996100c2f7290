"""Group-buys, the shopper's side: open a team (the leader), join one, leave one; and what the pages read.

Every race is decided by the database. A seat is reserved when the order is placed, by
`UPDATE groupbuy_teams SET seats_taken = seats_taken + 1 WHERE id = :id AND status = 'forming' AND
seats_taken < size` (a CHECK is the last guard), so a team never has more paid or reserved members than
seats; a member holds one seat row per team (unique). The campaign's stock moves the same way. Leaving
takes the seat back from the team row first (conditional on the team still forming), so a member leaving
and the team completing at the same moment cannot both happen.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.catalog.models import Sku
from app.core import states
from app.core.clock import now_utc
from app.extensions import db
from app.groupbuys import lifecycle
from app.groupbuys.errors import (
    AlreadyJoined, CampaignSoldOut, CampaignUnavailable, MemberLimit, NotInTeam, TeamFull, TeamNotForming,
    TeamTimeUp, WrongStore,
)
from app.groupbuys.models import (
    SEAT_TRANSITIONS, GroupBuyCampaign, CampaignStatus, Seat, SeatStatus, Team, TeamStatus,
)
from app.members import service as members
from app.members.models import Member
from app.merchants.models import Merchant, Store
from app.orders import service as orders
from app.orders.models import Order, OrderKind
from app.payments.models import PayMethod
from app.pricing import AdjustmentKind, QuoteLine


@dataclass(frozen=True)
class GroupPrice:
    """The group price as a pricing Discount: one unit of the campaign's SKU at `unit_fen` (a member price
    below it stays: the shopper pays the lower)."""
    sku_id: int
    unit_fen: int
    campaign_id: int

    @property
    def kind(self) -> AdjustmentKind:
        return AdjustmentKind.GROUP_PRICE

    @property
    def source(self) -> str:
        return f"groupbuy:{self.campaign_id}"

    def applies_to(self, line: QuoteLine) -> bool:
        return line.sku_id == self.sku_id

    def amount_off(self, base_fen: int) -> int:
        return max(0, base_fen - self.unit_fen)


def running(campaign: GroupBuyCampaign, now: datetime) -> bool:
    return campaign.status is CampaignStatus.ACTIVE and campaign.starts_at <= now < campaign.ends_at


def seats_of(team_id: int, statuses=(SeatStatus.RESERVED, SeatStatus.PAID)) -> list[Seat]:
    return list(db.session.execute(sa.select(Seat).where(Seat.team_id == team_id, Seat.status.in_(statuses))
                                   .order_by(Seat.paid_at.is_(None), Seat.paid_at, Seat.id)).scalars())


def seat_of(team_id: int, member_id: int) -> Seat | None:
    return db.session.execute(sa.select(Seat).where(Seat.team_id == team_id, Seat.member_id == member_id)
                              ).scalar_one_or_none()


def team_of_order(order_id: int) -> Team | None:
    return db.session.execute(sa.select(Team).join(Seat, Seat.team_id == Team.id)
                              .where(Seat.order_id == order_id)).scalar_one_or_none()


def _check_member_limit(campaign: GroupBuyCampaign, member: Member) -> None:
    # One member's joins are counted one at a time: their own parallel taps cannot pass the limit.
    members.one_at_a_time(member.id)
    held = db.session.execute(sa.select(sa.func.count()).select_from(Seat).join(Team, Team.id == Seat.team_id).where(
        Team.campaign_id == campaign.id, Seat.member_id == member.id,
        Seat.status.in_([SeatStatus.RESERVED, SeatStatus.PAID]),
        Team.status.in_([TeamStatus.OPENING, TeamStatus.FORMING, TeamStatus.COMPLETE]))).scalar()
    if held >= campaign.per_member_limit:
        raise MemberLimit(limit=campaign.per_member_limit)


def _take_campaign_stock(campaign: GroupBuyCampaign) -> None:
    taken = db.session.execute(sa.update(GroupBuyCampaign).where(GroupBuyCampaign.id == campaign.id, GroupBuyCampaign.stock_left >= 1)
                               .values(stock_left=GroupBuyCampaign.stock_left - 1)
                               .execution_options(synchronize_session=False)).rowcount
    if taken != 1:
        raise CampaignSoldOut()


def _place(campaign: GroupBuyCampaign, team: Team, member: Member, unit_fen: int, pay_method: PayMethod) -> Order:
    merchant = db.session.get(Merchant, campaign.merchant_id)
    store = db.session.get(Store, team.store_id)
    return orders.place_order(
        merchant, store, member, [orders.LineRequest(campaign.sku_id, 1)], pay_method=pay_method,
        discounts=[GroupPrice(campaign.sku_id, unit_fen, campaign.id)], kind=OrderKind.GROUPBUY,
        note=f"拼团 #{team.id}")


def open_team(campaign: GroupBuyCampaign, member: Member, store_id: int, *, pay_method: PayMethod,
              now: datetime | None = None) -> tuple[Team, Order]:
    """The leader's order for a new team. The team opens (its deadline starts) when this order is paid."""
    now = now or now_utc()
    if not running(campaign, now) or member.merchant_id != campaign.merchant_id:
        raise CampaignUnavailable()
    if store_id not in campaign.pickup_store_ids:
        raise WrongStore()
    _check_member_limit(campaign, member)
    team = Team(merchant_id=campaign.merchant_id, campaign_id=campaign.id, store_id=store_id,
                leader_member_id=member.id, size=campaign.team_size, seats_taken=1, paid_count=0,
                status=TeamStatus.OPENING, created_at=now)
    db.session.add(team)
    db.session.flush()
    seat = Seat(team_id=team.id, member_id=member.id, status=SeatStatus.RESERVED, joined_at=now)
    db.session.add(seat)
    _take_campaign_stock(campaign)
    price = campaign.leader_price_fen if campaign.leader_price_fen is not None else campaign.group_price_fen
    order = _place(campaign, team, member, price, pay_method)
    seat.order_id = order.id
    db.session.flush()
    return team, order


def join(team: Team, member: Member, *, pay_method: PayMethod, now: datetime | None = None) -> Order:
    """A friend's order for a seat in `team`, the seat reserved now (released if unpaid in time)."""
    now = now or now_utc()
    campaign = db.session.get(GroupBuyCampaign, team.campaign_id)
    if member.merchant_id != team.merchant_id or campaign.status is CampaignStatus.DRAFT:
        raise CampaignUnavailable()
    if team.status is not TeamStatus.FORMING:
        raise TeamNotForming(label=team.label, status=team.status.value)
    if team.deadline_at is not None and team.deadline_at <= now:
        raise TeamTimeUp()  # the deadline passed; the sweep is about to fail the team
    existing = seat_of(team.id, member.id)
    if existing is not None and existing.status is not SeatStatus.RELEASED:
        raise AlreadyJoined()
    _check_member_limit(campaign, member)
    reserved = db.session.execute(
        sa.update(Team).where(Team.id == team.id, Team.status == TeamStatus.FORMING, Team.seats_taken < Team.size)
        .values(seats_taken=Team.seats_taken + 1).execution_options(synchronize_session=False)).rowcount
    db.session.expire(team)
    if reserved != 1:
        if team.status is not TeamStatus.FORMING:
            raise TeamNotForming(label=team.label, status=team.status.value)
        raise TeamFull()
    if existing is not None:
        if not states.transition(existing, SeatStatus.RESERVED, SEAT_TRANSITIONS, order_id=None, joined_at=now,
                                 paid_at=None):
            raise AlreadyJoined()
        seat = existing
    else:
        seat = Seat(team_id=team.id, member_id=member.id, status=SeatStatus.RESERVED, joined_at=now)
        try:
            with db.session.begin_nested():
                db.session.add(seat)
        except sa.exc.IntegrityError:
            raise AlreadyJoined() from None
    _take_campaign_stock(campaign)
    order = _place(campaign, team, member, campaign.group_price_fen, pay_method)
    db.session.execute(sa.update(Seat).where(Seat.id == seat.id).values(order_id=order.id)
                       .execution_options(synchronize_session=False))
    db.session.expire(seat)
    return order


def leave(team: Team, member: Member, *, now: datetime | None = None) -> None:
    """A paid member leaves before the team completes: their own order is refunded. The leader's place goes
    to the earliest remaining paid member; a team left with no paid member closes."""
    now = now or now_utc()
    seat = seat_of(team.id, member.id)
    if seat is None or seat.status is not SeatStatus.PAID:
        raise NotInTeam()
    if team.status is not TeamStatus.FORMING:
        raise TeamNotForming(label=team.label, status=team.status.value)
    if team.deadline_at is not None and team.deadline_at <= now:
        raise TeamTimeUp()  # the team is failing: every member is refunded anyway
    lifecycle.leave_seat(team, seat, reason="退出拼团", now=now)
