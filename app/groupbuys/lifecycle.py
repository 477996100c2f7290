"""What happens to a team as its members' orders move: paid (the team opens, or completes when the last
seat is paid), cancelled unpaid (the seat is free again), a member leaving, the deadline coming first.

Called inside the transaction that moved the order (app.orders.signals) or by the deadline task. Refunds
are recorded here, each for the member's own order with its own request number (payments.request_refund),
and sent to the provider only after the commit, by a retrying job with a sweep behind it: a failure while
sending never rolls back the record of a refund already made.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from app.core import logging as applog
from app.core import states, tasks
from app.extensions import db
from app.groupbuys.errors import TeamNotForming
from app.groupbuys.models import (
    SEAT_TRANSITIONS, TEAM_TRANSITIONS, GroupBuyCampaign, Seat, SeatStatus, Team, TeamStatus,
)
from app.orders import grouping
from app.orders import service as orders
from app.orders.models import Order, OrderKind, OrderStatus


def _seat_for(order: Order) -> Seat | None:
    if order.kind is not OrderKind.GROUPBUY:
        return None
    return db.session.execute(sa.select(Seat).where(Seat.order_id == order.id)).scalar_one_or_none()


def _give_back_stock(campaign_id: int, n: int = 1) -> None:
    if n:
        db.session.execute(sa.update(GroupBuyCampaign).where(GroupBuyCampaign.id == campaign_id)
                           .values(stock_left=GroupBuyCampaign.stock_left + n).execution_options(synchronize_session=False))


def _paid_seats(team_id: int) -> list[Seat]:
    return list(db.session.execute(sa.select(Seat).where(Seat.team_id == team_id, Seat.status == SeatStatus.PAID)
                                   .order_by(Seat.paid_at, Seat.id)).scalars())


def _reserved_seats(team_id: int) -> list[Seat]:
    return list(db.session.execute(sa.select(Seat).where(Seat.team_id == team_id, Seat.status == SeatStatus.RESERVED)
                                   .order_by(Seat.id)).scalars())


# ---------------------------------------------------------------- paid

def on_held(order: Order, *, now: datetime) -> None:
    """A member's group-buy order was paid: their seat is paid; the leader's payment opens the team (its
    deadline starts now); the payment that fills the last seat completes the team, in this transaction."""
    seat = _seat_for(order)
    if seat is None:
        return
    team = db.session.get(Team, seat.team_id)
    if seat.status is not SeatStatus.RESERVED or not states.transition(
            seat, SeatStatus.PAID, SEAT_TRANSITIONS, paid_at=now):
        _money_back(order, "拼团座位已释放，自动退款")
        return
    if team.status is TeamStatus.OPENING:
        campaign = db.session.get(GroupBuyCampaign, team.campaign_id)
        deadline = min(now + timedelta(hours=campaign.time_limit_hours), campaign.ends_at)
        if states.transition(team, TeamStatus.FORMING, TEAM_TRANSITIONS, opened_at=now, deadline_at=deadline):
            # The deadline is the team row's deadline_at; this message is the fast path to it (a sweep every
            # minute fails any team whose message was lost).
            tasks.schedule("groupbuys.fail_if_due", team.id, eta=deadline)
    counted = db.session.execute(
        sa.update(Team).where(Team.id == team.id, Team.status == TeamStatus.FORMING)
        .values(paid_count=Team.paid_count + 1).returning(Team.paid_count, Team.size)
        .execution_options(synchronize_session=False)).first()
    db.session.expire(team)
    if counted is None:
        # The team stopped forming meanwhile (it failed or closed): this member's money goes back.
        states.transition(seat, SeatStatus.LEFT, SEAT_TRANSITIONS)
        db.session.execute(sa.update(Team).where(Team.id == team.id).values(seats_taken=Team.seats_taken - 1)
                           .execution_options(synchronize_session=False))
        _give_back_stock(team.campaign_id)
        _money_back(order, "拼团已结束，自动退款")
        return
    if counted.paid_count == counted.size:
        _complete(team, now)


def _money_back(order: Order, reason: str) -> None:
    applog.event("group-buy payment refunded", level=30, order_id=order.id, reason=reason)
    grouping.refund(order, reason=reason)


def _complete(team: Team, now: datetime) -> None:
    if not states.transition(team, TeamStatus.COMPLETE, TEAM_TRANSITIONS, ended_at=now,
                             where=[Team.paid_count == Team.size]):
        return
    for seat in _paid_seats(team.id):
        grouping.release(db.session.get(Order, seat.order_id), now=now)
    tasks.enqueue("groupbuys.notify", team.id)


# ---------------------------------------------------------------- unpaid in time

def on_cancelled(order: Order, *, now: datetime) -> None:
    """A member's order was cancelled unpaid (timed out, or called off): the seat is free again. A leader
    who never paid leaves a team that never opened: it closes."""
    seat = _seat_for(order)
    if seat is None or seat.status is not SeatStatus.RESERVED:
        return
    if not states.transition(seat, SeatStatus.RELEASED, SEAT_TRANSITIONS, where=[Seat.order_id == order.id]):
        return
    team = db.session.get(Team, seat.team_id)
    db.session.execute(sa.update(Team).where(Team.id == team.id).values(seats_taken=Team.seats_taken - 1)
                       .execution_options(synchronize_session=False))
    db.session.expire(team)
    _give_back_stock(team.campaign_id)
    if team.status is TeamStatus.OPENING:
        states.transition(team, TeamStatus.CLOSED, TEAM_TRANSITIONS, ended_at=now)


# ---------------------------------------------------------------- leaving

def leave_seat(team: Team, seat: Seat, *, reason: str, now: datetime) -> None:
    moved = db.session.execute(
        sa.update(Team).where(Team.id == team.id, Team.status == TeamStatus.FORMING, Team.paid_count >= 1)
        .values(seats_taken=Team.seats_taken - 1, paid_count=Team.paid_count - 1)
        .execution_options(synchronize_session=False)).rowcount
    db.session.expire(team)
    if moved != 1 or not states.transition(seat, SeatStatus.LEFT, SEAT_TRANSITIONS):
        raise TeamNotForming(label=team.label, status=team.status.value)
    grouping.refund(db.session.get(Order, seat.order_id), reason=reason, now=now)
    _give_back_stock(team.campaign_id)
    remaining = _paid_seats(team.id)
    if remaining:
        if team.leader_member_id == seat.member_id:
            db.session.execute(sa.update(Team).where(Team.id == team.id)
                               .values(leader_member_id=remaining[0].member_id)
                               .execution_options(synchronize_session=False))
            db.session.expire(team)
        return
    # Nobody paid is left: the team closes, and any seat still waiting for payment is called off.
    states.transition(team, TeamStatus.CLOSED, TEAM_TRANSITIONS, ended_at=now)
    for other in _reserved_seats(team.id):
        order = db.session.get(Order, other.order_id)
        if order.status is OrderStatus.PENDING_PAYMENT:
            orders.cancel(order, reason="拼团已关闭", now=now)


# ---------------------------------------------------------------- the deadline

def due_teams(now: datetime, limit: int = 200) -> list[int]:
    return list(db.session.execute(
        sa.select(Team.id).where(Team.status == TeamStatus.FORMING, Team.deadline_at <= now)
        .order_by(Team.id).limit(limit)).scalars())


def fail_if_due(team_id: int, *, now: datetime) -> bool:
    """The deadline came before the last seat was paid: the team fails once (a conditional update, so the
    delayed task and the sweep together still do it once), every paid member's own order is refunded, and
    every unpaid one cancelled. True when this call failed the team."""
    team = db.session.get(Team, team_id)
    if team is None or team.status is not TeamStatus.FORMING or team.deadline_at > now:
        return False
    if not states.transition(team, TeamStatus.FAILED, TEAM_TRANSITIONS, ended_at=now,
                             where=[Team.deadline_at <= now]):
        return False
    paid = _paid_seats(team_id)
    for seat in paid:
        grouping.refund(db.session.get(Order, seat.order_id), reason="拼团未成功，自动退款", now=now)
    _give_back_stock(team.campaign_id, len(paid))
    for seat in _reserved_seats(team_id):
        order = db.session.get(Order, seat.order_id)
        if order.status is OrderStatus.PENDING_PAYMENT:
            orders.cancel(order, reason="拼团未成功，订单取消", now=now)
    tasks.enqueue("groupbuys.notify", team.id)
    return True
