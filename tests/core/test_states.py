"""Every status change goes through one helper that checks the machine's table and lets the database decide.
Walks each table: every (from, to) pair on a real row of each kind."""
from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa

from app.core import states
from app.core.clock import now_utc
from app.core.database import commit
from app.extensions import db
from app.orders import handover
from app.orders import service as orders
from app.orders.models import TRANSITIONS as ORDER_TRANSITIONS
from app.orders.models import Order, OrderStatus
from app.payments.models import (
    PAYMENT_TRANSITIONS, REFUND_TRANSITIONS, Payment, PaymentStatus, PayMethod, Refund, RefundStatus,
)
from app.groupbuys.models import SEAT_TRANSITIONS, TEAM_TRANSITIONS, Seat, SeatStatus, Team, TeamStatus
from app.presales.models import PRESALE_TRANSITIONS, PresaleOrderStatus
from app.vouchers.models import TRANSITIONS as VOUCHER_TRANSITIONS
from app.vouchers.models import Voucher, VoucherStatus
from app.vouchers.redeem import REDEEM_FROM, UNDO_FROM
from tests.support.factories import make_member, make_product, make_voucher

TABLES = [
    ("voucher", VOUCHER_TRANSITIONS, VoucherStatus),
    ("order", ORDER_TRANSITIONS, OrderStatus),
    ("payment", PAYMENT_TRANSITIONS, PaymentStatus),
    ("refund", REFUND_TRANSITIONS, RefundStatus),
    ("team", TEAM_TRANSITIONS, TeamStatus),
    ("seat", SEAT_TRANSITIONS, SeatStatus),
    ("presale_order", PRESALE_TRANSITIONS, PresaleOrderStatus),
]


@pytest.fixture
def rows(world):
    """One row of each kind, built through the real services."""
    product = make_product(world.merchant, "拿铁", (("中杯", 2800, 2500),), stock={world.store: 5})
    member = make_member(world.merchant)
    voucher = make_voucher(world.merchant)
    order = orders.place_order(world.merchant, world.store, member,
                               [orders.LineRequest(product.skus[0].id, 1)], pay_method=PayMethod.SANDBOX)
    payment = handover.open_payment(order)
    refund = Refund(merchant_id=world.merchant.id, payment_id=payment.id, order_id=order.id, out_refund_no="RTEST1",
                    amount_fen=100, reason="t", status=RefundStatus.PENDING, created_at=now_utc())
    db.session.add(refund)
    from app.presales import service as presales
    from tests.groupbuys.conftest import make_campaign
    from tests.presales.conftest import make_campaign as make_presale

    campaign = make_campaign(world.merchant, product.skus[0], [world.store])
    team = Team(merchant_id=world.merchant.id, campaign_id=campaign.id, store_id=world.store.id,
                leader_member_id=member.id, size=2, seats_taken=1, status=TeamStatus.OPENING, created_at=now_utc())
    db.session.add(team)
    db.session.flush()
    seat = Seat(team_id=team.id, member_id=member.id, order_id=order.id, status=SeatStatus.RESERVED,
                joined_at=now_utc())
    db.session.add(seat)
    presale = make_presale(world.merchant, product.skus[0], world.store)
    presale_order = presales.place_deposit(world.merchant, member, presale.id, quantity=1,
                                           pay_method=PayMethod.SANDBOX, now=now_utc())
    commit()
    return {"voucher": voucher, "order": order, "payment": payment, "refund": refund, "team": team, "seat": seat,
            "presale_order": presales.presale_of(presale_order.id)}


def _force(row, status) -> None:
    """Puts a row in `status` behind the helper's back, to start a step of the walk from there."""
    model = type(row)
    extra = {"uses_left": 0} if model is Voucher else {}
    db.session.execute(sa.update(model).where(model.id == row.id).values(status=status, **extra)
                       .execution_options(synchronize_session=False))
    db.session.expire(row)
    assert row.status is status


@pytest.mark.parametrize("kind,table,enum_cls", TABLES, ids=[t[0] for t in TABLES])
def test_every_pair_of_each_table(rows, kind, table, enum_cls):
    row = rows[kind]
    assert set(table) == set(enum_cls), "every status has a row in the table"
    for before, after in itertools.product(enum_cls, enum_cls):
        _force(row, before)
        if states.allowed(table, before, after):
            assert states.transition(row, after, table), (before, after)
            assert row.status is after
        else:
            with pytest.raises(states.IllegalTransition):
                states.transition(row, after, table)
            assert row.status is before, "a refused change leaves the row as it was"


def test_the_database_decides_when_the_row_moved_meanwhile(rows):
    """The status in memory allows the change, the stored one no longer does: no change, no error."""
    order = rows["order"]
    assert order.status is OrderStatus.PENDING_PAYMENT
    db.session.execute(sa.update(Order).where(Order.id == order.id).values(status=OrderStatus.CANCELLED)
                       .execution_options(synchronize_session=False))
    order.status = OrderStatus.PENDING_PAYMENT  # a stale copy, as another worker's would be
    assert states.transition(order, OrderStatus.READY, ORDER_TRANSITIONS) is False
    assert order.status is OrderStatus.CANCELLED


def test_sql_decided_changes_take_their_sources_from_the_same_table():
    assert REDEEM_FROM == states.values(s for s in VoucherStatus if
                                        {VoucherStatus.PARTLY_USED, VoucherStatus.REDEEMED} <= VOUCHER_TRANSITIONS[s])
    assert set(REDEEM_FROM) == {"issued", "partly_used"}
    assert set(UNDO_FROM) == {"partly_used", "redeemed"}


def test_a_pay_at_store_collection_is_the_only_paid_payment_that_closes(rows):
    payment = rows["payment"]  # an online (sandbox) payment
    _force(payment, PaymentStatus.PAID)
    assert states.transition(payment, PaymentStatus.CLOSED, PAYMENT_TRANSITIONS,
                             where=[Payment.provider == PayMethod.STORE]) is False
    assert payment.status is PaymentStatus.PAID
