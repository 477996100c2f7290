"""Coupons on a pre-sale's balance, when the campaign allows it: the order page offers the member's coupons
that apply to the balance (a 满减's threshold measured on the balance); using one takes it off the balance
only (the deposit is paid already), spends the coupon, and the balance is paid for the rest; a campaign that
does not allow it refuses in words; a missed balance gives the coupon back."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.core import clock
from app.core.database import commit
from app.coupons.models import CampaignType, Coupon
from app.extensions import db
from app.orders import handover
from app.orders.models import Order, OrderStatus
from app.payments import service as payments
from app.payments.models import PayMethod
from app.presales import service as presales
from app.presales import tasks as presale_tasks
from app.presales.models import MissedBalance
from tests.conftest import member_client
from tests.coupons.helpers import make_campaign as make_coupon_campaign, try_claim
from tests.presales.conftest import make_campaign
from tests.presales.test_pages import _pay_sandbox
from tests.presales.test_presales import pay_due
from tests.support.factories import make_member, make_product


@pytest.fixture
def setup(world):
    cake = make_product(world.merchant, "圣诞蛋糕", (("6寸", 30000, None),), stock={world.store: 0}).skus[0]
    member = make_member(world.merchant)
    big = make_coupon_campaign(world.merchant, name="满200减30", type=CampaignType.THRESHOLD, threshold_fen=20000,
                               value_fen=3000)
    too_big = make_coupon_campaign(world.merchant, name="满250减50", type=CampaignType.THRESHOLD,
                                   threshold_fen=25000, value_fen=5000)
    coupons = [try_claim(big, member.id), try_claim(too_big, member.id)]
    commit()
    return cake, member, coupons


def _deposit_paid(world, member, c):
    order = presales.place_deposit(world.merchant, member, c.id, quantity=1, pay_method=PayMethod.SANDBOX,
                                   now=clock.now_utc())
    commit()
    pay_due(order)
    return db.session.get(Order, order.id)


def test_a_coupon_takes_its_share_off_the_balance_and_the_rest_is_paid(frozen, app, world, setup):
    cake, member, (fits, too_big) = setup
    c = make_campaign(world.merchant, cake, world.store)
    c.coupons_on_balance = True
    commit()
    order = _deposit_paid(world, member, c)
    clock.advance(timedelta(days=1, minutes=1))
    me = member_client(app, member)
    page = me.get(f"/orders/{order.id}").get_data(as_text=True)
    assert page.count('data-testid="balance-coupon-option"') == 1 and "满200减30" in page  # 满250 not on a ¥200 balance
    r = me.post(f"/orders/{order.id}/balance/coupon", data={"coupon": str(fits.id)})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/orders/{order.id}/balance")
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert (order.total_fen, order.deposit_fen) == (22000, 5000)  # ¥300 − ¥50 bonus − ¥30 coupon
    assert db.session.get(Coupon, fits.id).order_id == order.id
    _pay_sandbox(me, f"/orders/{order.id}/balance")
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status is OrderStatus.READY
    assert sorted(p.amount_fen for p in payments.paid_payments(order.id)) == [5000, 17000]
    r = me.post(f"/orders/{order.id}/balance/coupon", data={"coupon": str(too_big.id)})  # too late now
    assert r.status_code == 303 and db.session.get(Coupon, too_big.id).order_id is None


def test_a_campaign_without_coupons_on_the_balance_refuses_them(frozen, app, world, setup):
    cake, member, (fits, _) = setup
    c = make_campaign(world.merchant, cake, world.store)
    commit()
    order = _deposit_paid(world, member, c)
    clock.advance(timedelta(days=1, minutes=1))
    me = member_client(app, member)
    assert 'data-testid="balance-coupons"' not in me.get(f"/orders/{order.id}").get_data(as_text=True)
    me.post(f"/orders/{order.id}/balance/coupon", data={"coupon": str(fits.id)})
    assert "本预售的尾款不可使用优惠券" in me.get(f"/orders/{order.id}").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Order, order.id).total_fen == 25000 and db.session.get(Coupon, fits.id).order_id is None


def test_a_missed_balance_gives_the_coupon_back(frozen, app, world, setup):
    cake, member, (fits, _) = setup
    c = make_campaign(world.merchant, cake, world.store, missed=MissedBalance.FORFEIT)
    c.coupons_on_balance = True
    commit()
    order = _deposit_paid(world, member, c)
    clock.advance(timedelta(days=1, minutes=1))
    presales.use_coupon_on_balance(order, member, fits.id, clock.now_utc())
    commit()
    assert db.session.get(Coupon, fits.id).order_id == order.id
    clock.advance(timedelta(days=2))
    assert presale_tasks.settle_missed() == 1
    db.session.expire_all()
    assert db.session.get(Order, order.id).status is OrderStatus.CANCELLED
    assert db.session.get(Coupon, fits.id).order_id is None  # back with its owner


def test_a_balance_payment_opened_before_the_coupon_is_sent_back_whole(frozen, app, world, setup):
    """The member opens the full balance's payment, then uses a coupon (the balance shrinks and that payment is
    closed here), and the first payment still goes through at the provider: it is not the balance any more, so
    every fen of it goes back and the order keeps waiting for the right amount (never an overpaid order)."""
    cake, member, (fits, _) = setup
    c = make_campaign(world.merchant, cake, world.store)
    c.coupons_on_balance = True
    commit()
    order = _deposit_paid(world, member, c)
    clock.advance(timedelta(days=1, minutes=1))
    stale = handover.open_payment(db.session.get(Order, order.id))
    commit()
    assert stale.amount_fen == 20000  # ¥250 − ¥50 deposit
    presales.use_coupon_on_balance(db.session.get(Order, order.id), member, fits.id, clock.now_utc())
    commit()
    payments.apply_payment_result(payments.PaymentResult(stale.out_trade_no, True, 20000, "T-stale"))
    commit()
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status is OrderStatus.DEPOSIT_PAID
    assert sum(r.amount_fen for r in payments.refunds_of(order.id)) == 20000  # the stale payment, whole
    assert handover.amount_due(order) == 17000  # ¥220 − ¥50 deposit: still to pay, with the coupon
    pay_due(order)
    assert db.session.get(Order, order.id).status is OrderStatus.READY
