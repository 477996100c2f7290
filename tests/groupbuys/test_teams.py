"""A team's life through the real order and payment paths: opened by the leader's payment, completed by the
last seat's payment (every member's own order ready with its own voucher), seats released when unpaid,
members leaving (the next leads; the last one closes the team), and the deadline failing the team once."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core import clock
from app.core.database import commit
from app.extensions import db
from app.groupbuys import lifecycle, service as groupbuys
from app.groupbuys import tasks as groupbuy_tasks
from app.groupbuys.errors import AlreadyJoined, MemberLimit, NotInTeam, TeamFull, TeamNotForming
from app.groupbuys.models import GroupBuyCampaign, Seat, SeatStatus, Team, TeamStatus
from app.orders import service as orders
from app.orders import tasks as order_tasks
from app.orders.models import Order, OrderKind, OrderStatus
from app.payments.models import PayMethod, Refund, RefundStatus
from app.vouchers.models import Voucher
from tests.groupbuys.conftest import pay

SANDBOX = PayMethod.SANDBOX


def _open(campaign, leader, store):
    team, order = groupbuys.open_team(campaign, leader, store.id, pay_method=SANDBOX)
    commit()
    return team, order


def _join(team, member):
    order = groupbuys.join(db.session.get(Team, team.id), member, pay_method=SANDBOX)
    commit()
    return order


def _team(team_id) -> Team:
    db.session.expire_all()
    return db.session.get(Team, team_id)


def test_the_leader_pays_at_the_group_price_and_the_team_opens_with_its_deadline(frozen, world, campaign, members):
    team, order = _open(campaign, members[0], world.store)
    assert team.status is TeamStatus.OPENING and order.kind is OrderKind.GROUPBUY
    assert order.total_fen == 2000 and order.list_total_fen == 2800  # the group price, below the member price
    with pytest.raises(TeamNotForming):
        _join(team, members[1])  # nobody joins a team whose leader has not paid
    db.session.rollback()
    pay(order)
    team = _team(team.id)
    assert team.status is TeamStatus.FORMING and team.paid_count == 1
    assert team.deadline_at == frozen + timedelta(hours=24)
    order = db.session.get(Order, order.id)
    assert order.status is OrderStatus.GROUPING and order.voucher_id is None  # no voucher before the team fills


def test_the_deadline_is_capped_by_the_campaign_end(frozen, world, campaign, members):
    campaign.ends_at = frozen + timedelta(hours=2)
    commit()
    team, order = _open(campaign, members[0], world.store)
    pay(order)
    assert _team(team.id).deadline_at == frozen + timedelta(hours=2)


def test_the_last_seat_paid_completes_the_team_each_member_with_their_own_voucher(frozen, world, campaign, members):
    team, lead = _open(campaign, members[0], world.store)
    pay(lead)
    o1, o2 = _join(team, members[1]), _join(team, members[2])
    with pytest.raises(TeamFull):
        _join(team, members[3])  # 3 seats: 1 paid + 2 reserved
    db.session.rollback()
    pay(o1)
    assert _team(team.id).status is TeamStatus.FORMING
    pay(o2)
    team = _team(team.id)
    assert team.status is TeamStatus.COMPLETE and team.paid_count == 3
    ids = [lead.id, o1.id, o2.id]
    got = db.session.execute(sa.select(Order).where(Order.id.in_(ids))).scalars().all()
    assert {o.status for o in got} == {OrderStatus.READY}
    vouchers = {o.voucher_id for o in got}
    assert None not in vouchers and len(vouchers) == 3
    assert {db.session.get(Voucher, v).member_id for v in vouchers} == {m.id for m in members[:3]}


def test_a_member_cannot_join_twice_nor_pass_the_campaign_limit(frozen, world, campaign, members):
    team, lead = _open(campaign, members[0], world.store)
    pay(lead)
    _join(team, members[1])
    with pytest.raises(AlreadyJoined):
        _join(team, members[1])
    db.session.rollback()
    with pytest.raises(AlreadyJoined):
        _join(team, members[0])  # the leader
    db.session.rollback()
    with pytest.raises(MemberLimit):  # per-member limit 1: a second team of their own
        groupbuys.open_team(campaign, members[1], world.store.id, pay_method=SANDBOX)
    db.session.rollback()


def test_an_unpaid_seat_is_released_on_timeout_and_can_be_taken_again(frozen, world, campaign, members):
    team, lead = _open(campaign, members[0], world.store)
    pay(lead)
    stock_before = db.session.get(GroupBuyCampaign, campaign.id).stock_left
    _join(team, members[1])
    _join(team, members[2])
    clock.advance(timedelta(minutes=world.merchant.unpaid_cancel_minutes + 1))
    assert order_tasks.cancel_expired() == 2
    team = _team(team.id)
    assert team.seats_taken == 1 and team.status is TeamStatus.FORMING
    assert db.session.get(GroupBuyCampaign, campaign.id).stock_left == stock_before
    assert {s.status for s in db.session.query(Seat).filter(Seat.team_id == team.id, Seat.member_id != members[0].id)} \
        == {SeatStatus.RELEASED}
    again = _join(team, members[1])  # the same member may take a seat again
    assert db.session.get(Order, again.id).status is OrderStatus.PENDING_PAYMENT


def test_a_leader_who_never_pays_leaves_a_closed_team(frozen, world, campaign, members):
    team, lead = _open(campaign, members[0], world.store)
    clock.advance(timedelta(minutes=world.merchant.unpaid_cancel_minutes + 1))
    order_tasks.cancel_expired()
    assert _team(team.id).status is TeamStatus.CLOSED


def test_a_complete_team_cannot_be_left(frozen, world, campaign, members):
    team, lead = _open(campaign, members[0], world.store)
    pay(lead)
    clock.advance(timedelta(minutes=1))
    o1 = _join(team, members[1])
    pay(o1)
    clock.advance(timedelta(minutes=1))
    o2 = _join(team, members[2])
    pay(o2)  # complete: 3 of 3
    assert _team(team.id).status is TeamStatus.COMPLETE
    with pytest.raises(TeamNotForming):
        groupbuys.leave(_team(team.id), members[1])  # too late: the team is complete
    db.session.rollback()


def test_leaving_refunds_the_members_own_order_and_passes_the_lead(frozen, world, latte, members):
    from tests.groupbuys.conftest import make_campaign

    campaign = make_campaign(world.merchant, latte.skus[0], [world.store], size=4)
    commit()
    team, lead = _open(campaign, members[0], world.store)
    pay(lead)
    clock.advance(timedelta(minutes=1))
    o1 = _join(team, members[1])
    pay(o1)
    clock.advance(timedelta(minutes=1))
    o2 = _join(team, members[2])
    pay(o2)
    groupbuys.leave(_team(team.id), members[0])
    commit()
    team = _team(team.id)
    assert team.leader_member_id == members[1].id and team.paid_count == 2 and team.status is TeamStatus.FORMING
    assert db.session.get(Order, lead.id).status is OrderStatus.REFUNDED
    refund = db.session.query(Refund).filter_by(order_id=lead.id).one()
    assert refund.amount_fen == 2000 and refund.status is RefundStatus.SUCCEEDED  # the sandbox settles at once
    assert db.session.query(Refund).filter(Refund.order_id.in_([o1.id, o2.id])).count() == 0
    with pytest.raises(NotInTeam):
        groupbuys.leave(team, members[0])
    db.session.rollback()
    groupbuys.leave(_team(team.id), members[1])
    commit()
    assert _team(team.id).leader_member_id == members[2].id
    groupbuys.leave(_team(team.id), members[2])
    commit()
    assert _team(team.id).status is TeamStatus.CLOSED


def test_the_deadline_fails_the_team_once_refunding_each_member_and_cancelling_the_unpaid(
        frozen, world, campaign, members):
    team, lead = _open(campaign, members[0], world.store)
    pay(lead)
    o1 = _join(team, members[1])
    pay(o1)
    o2 = _join(team, members[2])  # never paid
    clock.advance(timedelta(hours=23))
    assert groupbuy_tasks.fail_due() == 0 and groupbuy_tasks.fail_if_due(team.id) is False  # not yet
    clock.advance(timedelta(hours=1))
    assert groupbuy_tasks.fail_if_due(team.id) is True  # the delayed task
    assert groupbuy_tasks.fail_due() == 0  # and the sweep after it: nothing more
    assert groupbuy_tasks.fail_if_due(team.id) is False
    db.session.expire_all()
    assert _team(team.id).status is TeamStatus.FAILED
    for order in (lead, o1):
        assert db.session.get(Order, order.id).status is OrderStatus.REFUNDED
        refunds = db.session.query(Refund).filter_by(order_id=order.id).all()
        assert len(refunds) == 1 and refunds[0].amount_fen == 2000  # the member's own order, once
    assert db.session.get(Order, o2.id).status is OrderStatus.CANCELLED
    assert db.session.get(GroupBuyCampaign, campaign.id).stock_left == 30
    assert len({r.out_refund_no for r in db.session.query(Refund)}) == 2


def test_nobody_joins_or_leaves_a_team_past_its_deadline(frozen, world, campaign, members):
    from app.groupbuys.errors import TeamTimeUp

    team, lead = _open(campaign, members[0], world.store)
    pay(lead)
    clock.advance(timedelta(hours=24))  # due, and the sweep has not run yet
    with pytest.raises(TeamTimeUp):
        _join(team, members[1])
    db.session.rollback()
    with pytest.raises(TeamTimeUp):
        groupbuys.leave(_team(team.id), members[0])
    db.session.rollback()
    assert groupbuy_tasks.fail_due() == 1
