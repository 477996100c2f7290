"""Pre-sales end to end in the domain (sandbox pay, frozen clock): a deposit reserves the campaign's stock and
waits for the balance; the balance only in its window; paid, the pickup voucher is valid from the pickup
date (the counter refuses earlier with not_yet_valid and redeems on it); an unpaid deposit gives its unit back."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.core import clock
from app.core.database import commit
from app.extensions import db
from app.orders import handover
from app.orders.models import Order, OrderStatus
from app.payments import service as payments
from app.payments.models import PayMethod
from app.presales import service as presales
from app.presales.errors import BalanceNotOpen, PresaleLimit, PresaleSoldOut, PresaleUnavailable
from app.presales.models import PresaleCampaign, PresaleOrderStatus
from app.core.clock import month_day_time
from app.vouchers.models import Voucher
from tests.vouchers.helpers import redeem
from tests.presales.conftest import make_campaign
from tests.support.factories import make_member, make_product


@pytest.fixture
def cake(world):
    return make_product(world.merchant, "圣诞蛋糕", (("6寸", 30000, None),), stock={world.store: 0}).skus[0]


def pay_due(order):
    payment = handover.open_payment(db.session.get(Order, order.id))
    commit()
    payments.apply_payment_result(payments.PaymentResult(payment.out_trade_no, True, payment.amount_fen, f"T{payment.id}"))
    commit()
    db.session.expire_all()
    return payment


def test_deposit_then_balance_then_pickup_from_the_pickup_date(frozen, client, world, cake):
    c = make_campaign(world.merchant, cake, world.store)
    member = make_member(world.merchant)
    commit()
    order = presales.place_deposit(world.merchant, member, c.id, quantity=1, pay_method=PayMethod.SANDBOX,
                                   now=clock.now_utc())
    commit()
    assert (order.total_fen, order.deposit_fen, order.list_total_fen) == (25000, 5000, 30000)  # ¥50 counts as ¥100
    assert db.session.get(PresaleCampaign, c.id).stock_left == 4
    deposit = pay_due(order)
    assert deposit.amount_fen == 5000
    order = db.session.get(Order, order.id)
    assert order.status is OrderStatus.DEPOSIT_PAID and order.voucher_id is None and order.expires_at is None
    assert presales.presale_of(order.id).status is PresaleOrderStatus.DEPOSIT_PAID

    with pytest.raises(BalanceNotOpen):  # the balance window opens tomorrow
        handover.open_payment(order)
    clock.advance(timedelta(days=1, minutes=1))
    balance = pay_due(order)
    assert balance.amount_fen == 20000
    order = db.session.get(Order, order.id)
    assert order.status is OrderStatus.READY and order.voucher_id is not None
    assert order.hand_over_from == c.pickup_from
    code = db.session.get(Voucher, order.voucher_id).code

    r = redeem(client, world.counter_key, code)  # the counter, before the pickup date
    assert r.status_code == 409 and r.json["error"]["code"] == "not_yet_valid"
    assert r.json["error"]["valid_from"] == c.pickup_from.isoformat().replace("+00:00", "Z")
    assert month_day_time(c.pickup_from) in r.json["error"]["message"]  # the date, in words
    clock.advance(timedelta(days=3))  # the pickup date
    r = redeem(client, world.counter_key, code)
    assert r.status_code == 200, r.json
    db.session.expire_all()
    assert db.session.get(Order, order.id).status is OrderStatus.PICKED_UP


def test_refusals_window_limit_and_sold_out(frozen, world, cake):
    c = make_campaign(world.merchant, cake, world.store, stock=3, limit=2)
    late = make_campaign(world.merchant, cake, world.store, deposit_days=(1, 2), balance_days=(2, 3))
    a, b = make_member(world.merchant, "甲"), make_member(world.merchant, "乙")
    commit()
    now = clock.now_utc()
    with pytest.raises(PresaleUnavailable):
        presales.place_deposit(world.merchant, a, late.id, quantity=1, pay_method=PayMethod.SANDBOX, now=now)
    presales.place_deposit(world.merchant, a, c.id, quantity=2, pay_method=PayMethod.SANDBOX, now=now)
    commit()
    with pytest.raises(PresaleLimit):
        presales.place_deposit(world.merchant, a, c.id, quantity=1, pay_method=PayMethod.SANDBOX, now=now)
    db.session.rollback()
    presales.place_deposit(world.merchant, b, c.id, quantity=1, pay_method=PayMethod.SANDBOX, now=now)
    commit()
    with pytest.raises(PresaleSoldOut):
        presales.place_deposit(world.merchant, make_member(world.merchant, "丙"), c.id, quantity=1,
                               pay_method=PayMethod.SANDBOX, now=now)
    db.session.rollback()
    assert db.session.get(PresaleCampaign, c.id).stock_left == 0


def test_an_unpaid_deposit_is_cancelled_in_time_and_gives_its_unit_back(frozen, world, cake):
    from app.orders import tasks as order_tasks

    c = make_campaign(world.merchant, cake, world.store)
    member = make_member(world.merchant)
    commit()
    order = presales.place_deposit(world.merchant, member, c.id, quantity=2, pay_method=PayMethod.SANDBOX,
                                   now=clock.now_utc())
    commit()
    assert db.session.get(PresaleCampaign, c.id).stock_left == 3
    clock.advance(timedelta(hours=1))
    assert order_tasks.cancel_expired() == 1
    db.session.expire_all()
    assert db.session.get(Order, order.id).status is OrderStatus.CANCELLED
    assert presales.presale_of(order.id).status is PresaleOrderStatus.CANCELLED
    assert db.session.get(PresaleCampaign, c.id).stock_left == 5


def test_a_refund_after_the_balance_gives_the_units_back_to_the_campaign_once(frozen, world, cake):
    """The store refunds a pre-sale whose balance was paid: the order turns REFUNDED (its money goes back
    through the provider) and its unit returns to the campaign's stock, once; the store's stock is untouched."""
    from app.catalog.models import StoreStock
    from app.orders import service as orders

    c = make_campaign(world.merchant, cake, world.store)
    member = make_member(world.merchant)
    commit()
    order = presales.place_deposit(world.merchant, member, c.id, quantity=1, pay_method=PayMethod.SANDBOX,
                                   now=clock.now_utc())
    commit()
    pay_due(order)
    clock.advance(timedelta(days=1, minutes=1))
    pay_due(order)
    assert db.session.get(PresaleCampaign, c.id).stock_left == 4
    store_stock = db.session.query(StoreStock.quantity).filter_by(store_id=world.store.id, sku_id=cake.id).scalar()
    orders.refund(db.session.get(Order, order.id), reason="门店缺货")
    commit()
    db.session.expire_all()
    assert db.session.get(Order, order.id).status is OrderStatus.REFUNDED
    assert db.session.get(PresaleCampaign, c.id).stock_left == 5
    assert sum(r.amount_fen for r in payments.refunds_of(order.id)) == 25000
    assert db.session.query(StoreStock.quantity).filter_by(store_id=world.store.id, sku_id=cake.id).scalar() \
        == store_stock
