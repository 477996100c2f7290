"""Pre-sales against the fake WeChat (Pay v3 and the official account), frozen clock: the balance window's
opening is announced once by template message (the delayed task and the sweep together send one); a missed
balance follows the campaign's rule at the window's end — the deposit refunded through WeChat Pay with its
own request number (a failing first request retried, the money moved once), or kept — and the unit goes back
to the campaign, once, whether the delayed task or the sweep gets there first."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.core import clock
from app.core.database import commit
from app.extensions import db
from app.members.service import member_for_wechat
from app.orders.models import Order, OrderStatus
from app.payments import tasks as payment_tasks
from app.payments.models import Payment, PaymentStatus, PayMethod, Refund, RefundStatus
from app.presales import service as presales
from app.presales import tasks as presale_tasks
from app.presales.models import PresaleCampaign, MissedBalance, PresaleOrderStatus
from app.web.payments import checkout_for
from tests.payments.conftest import fake, notify, wechat  # noqa: F401  (fixtures)
from tests.presales.conftest import make_campaign
from tests.support.factories import make_product

TEMPLATE = "TPL-presale-balance"


@pytest.fixture
def setup(app, world, wechat):  # noqa: F811
    app.config.update(WECHAT_SECRET=wechat.secret, WECHAT_API_BASE=wechat.url, WECHAT_TEMPLATE_PRESALE=TEMPLATE)
    cake = make_product(world.merchant, "圣诞蛋糕", (("6寸", 30000, None),), stock={world.store: 0}).skus[0]
    member = member_for_wechat(world.merchant.id, openid="o-ps-1", nickname="微信用户")
    commit()
    return cake, member


def _deposit_paid(app, client, wechat, world, campaign, member):  # noqa: F811
    order = presales.place_deposit(world.merchant, member, campaign.id, quantity=1, pay_method=PayMethod.WECHAT,
                                   now=clock.now_utc())
    commit()
    with app.test_request_context():
        payment, _ = checkout_for(db.session.get(Order, order.id), member)
    commit()
    headers, body = wechat.payment_notification(payment.out_trade_no)
    assert notify(client, headers, body).status_code == 204
    db.session.expire_all()
    assert db.session.get(Order, order.id).status is OrderStatus.DEPOSIT_PAID
    return db.session.get(Order, order.id), payment


def test_the_balance_window_is_announced_once_by_template_message(frozen, app, client, world, wechat, setup):  # noqa: F811
    cake, member = setup
    c = make_campaign(world.merchant, cake, world.store)
    commit()
    order, _ = _deposit_paid(app, client, wechat, world, c, member)
    assert presale_tasks.announce_due() == 0 and wechat.template_messages == []  # not open yet
    clock.advance(timedelta(days=1))
    assert presale_tasks.announce_if_due(order.id) is True  # the delayed task
    assert presale_tasks.announce_due() == 0                # the sweep finds nothing left
    assert presale_tasks.announce_if_due(order.id) is False
    [sent] = wechat.template_messages
    assert sent["touser"] == "o-ps-1" and sent["template_id"] == TEMPLATE
    assert sent["url"].endswith(f"/orders/{order.id}")
    assert "¥200.00" in sent["data"]["keyword3"]["value"] and "尾款" in sent["data"]["first"]["value"]
    assert presales.presale_of(order.id).announced_at is not None


def test_a_missed_balance_refunds_the_deposit_once_through_wechat_pay(frozen, app, client, world, wechat, setup):  # noqa: F811
    cake, member = setup
    c = make_campaign(world.merchant, cake, world.store, missed=MissedBalance.REFUND)
    commit()
    order, deposit = _deposit_paid(app, client, wechat, world, c, member)
    assert db.session.get(PresaleCampaign, c.id).stock_left == 4
    clock.advance(timedelta(days=2))
    assert presale_tasks.settle_if_missed(order.id) is False  # the window is still open: nothing happens
    wechat.fault("refund", "500")  # the first refund request fails
    clock.advance(timedelta(days=1, seconds=1))  # the balance window has closed
    assert presale_tasks.settle_if_missed(order.id) is True   # the delayed task
    assert presale_tasks.settle_missed() == 0                 # the sweep after it: nothing twice
    assert presale_tasks.settle_if_missed(order.id) is False
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status is OrderStatus.REFUNDED and order.refunded_fen == 5000
    assert presales.presale_of(order.id).status is PresaleOrderStatus.MISSED
    assert db.session.get(PresaleCampaign, c.id).stock_left == 5
    [refund] = db.session.query(Refund).filter_by(order_id=order.id).all()
    assert (refund.payment_id, refund.amount_fen) == (deposit.id, 5000)
    assert refund.status is RefundStatus.PENDING and refund.attempts == 1  # the first try failed
    clock.advance(timedelta(minutes=6))
    payment_tasks.retry_stuck_refunds()  # the stuck-refund sweep sends it again, same request number
    db.session.expire_all()
    refund = db.session.get(Refund, refund.id)
    assert refund.status in (RefundStatus.PROCESSING, RefundStatus.SUCCEEDED)
    assert wechat.refund_requests == [refund.out_refund_no, refund.out_refund_no]
    assert wechat.refunds_created[refund.out_refund_no] == 1


def test_a_missed_balance_forfeits_the_deposit_when_the_campaign_says_so(frozen, app, client, world, wechat, setup):  # noqa: F811
    cake, member = setup
    c = make_campaign(world.merchant, cake, world.store, missed=MissedBalance.FORFEIT)
    commit()
    order, deposit = _deposit_paid(app, client, wechat, world, c, member)
    clock.advance(timedelta(days=1))
    with app.test_request_context():  # the balance payment opened but never paid
        balance, _ = checkout_for(db.session.get(Order, order.id), member)
    commit()
    clock.advance(timedelta(days=2, seconds=1))
    assert presale_tasks.settle_missed() == 1      # the sweep first this time
    assert presale_tasks.settle_if_missed(order.id) is False  # then the delayed task: nothing twice
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status is OrderStatus.CANCELLED and order.refunded_fen == 0
    assert "定金不退" in order.cancel_reason
    assert db.session.query(Refund).filter_by(order_id=order.id).count() == 0 and wechat.refund_requests == []
    assert db.session.get(Payment, deposit.id).status is PaymentStatus.PAID   # the merchant keeps it
    assert db.session.get(Payment, balance.id).status is PaymentStatus.CLOSED  # WeChat asked, then closed
    assert db.session.get(PresaleCampaign, c.id).stock_left == 5


def test_the_balance_opens_wechats_cashier_and_waits_for_its_own_payment(frozen, app, client, world, wechat, setup):  # noqa: F811
    from tests.conftest import member_client

    cake, member = setup
    c = make_campaign(world.merchant, cake, world.store)
    commit()
    order, _ = _deposit_paid(app, client, wechat, world, c, member)
    clock.advance(timedelta(days=1))
    page = member_client(app, member).get(f"/orders/{order.id}/balance")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-testid="wxpay"' in html and 'data-status-from="deposit_paid"' in html  # not fooled by 待付尾款
    [balance] = [p for p in db.session.query(Payment).filter_by(order_id=order.id) if p.status is PaymentStatus.CREATED]
    assert balance.amount_fen == 20000
    headers, body = wechat.payment_notification(balance.out_trade_no)
    assert notify(client, headers, body).status_code == 204
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert order.status is OrderStatus.READY and order.hand_over_from == c.pickup_from
