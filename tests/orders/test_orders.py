"""Orders: stock reservation, payment through the sandbox path, pickup by the counter, cancel, refund."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.catalog.models import StoreStock
from app.core import clock
from app.core.errors import BadRequest
from app.core.database import commit
from app.extensions import db
from app.members.models import Member, PointsEntry
from app.orders import handover
from app.orders import service as orders
from app.orders.errors import OrderStateError, OutOfStock, PickedUp, StoreClosed
from app.orders.models import OrderEvent, OrderStatus
from app.payments.models import PayMethod
from app.payments import service as payments
from app.payments.models import Payment, PaymentStatus, Refund, RefundStatus
from app.vouchers import redeem as redeeming
from app.vouchers import service as vouchers
from app.vouchers.errors import AlreadyRedeemed, Void
from app.vouchers.models import Voucher, VoucherStatus
from tests.support.factories import make_member, make_product, set_hours


@pytest.fixture
def shop(world):
    product = make_product(world.merchant, "拿铁", (("中杯", 2800, 2500), ("大杯", 3200, None)),
                           stock={world.store: 5, world.store_b: 1})
    member = make_member(world.merchant, "小明")
    commit()
    return world, product, member


def stock(store, sku) -> int:
    return db.session.execute(sa.select(StoreStock.quantity).where(
        StoreStock.store_id == store.id, StoreStock.sku_id == sku.id)).scalar()


def place(world, member, lines, **kw):
    kw.setdefault("pay_method", PayMethod.SANDBOX)
    order = orders.place_order(world.merchant, kw.pop("store", world.store), member,
                               [orders.LineRequest(s.id, q) for s, q in lines], **kw)
    commit()
    return order


def pay(order):
    payment = handover.open_payment(order)
    payments.apply_payment_result(payments.PaymentResult(payment.out_trade_no, True, payment.amount_fen, "T1"))
    commit()
    return payment


def counter(world):
    return vouchers.Actor(merchant_id=world.merchant.id, store_id=world.store.id, staff_id=world.cashier.id)


def test_place_order_freezes_member_prices_and_reserves_stock(shop, frozen):
    world, product, member = shop
    medium, large = product.skus
    order = place(world, member, [(medium, 2), (large, 1)])
    assert order.status is OrderStatus.PENDING_PAYMENT
    assert order.total_fen == 2 * 2500 + 3200 and order.list_total_fen == 2 * 2800 + 3200
    assert order.expires_at == frozen + timedelta(minutes=15)
    assert stock(world.store, medium) == 3 and stock(world.store, large) == 4
    assert [(l.sku_name, l.unit_price_fen) for l in order.lines] == [("中杯", 2500), ("大杯", 3200)]


def test_out_of_stock_names_the_product_and_takes_nothing(shop):
    world, product, member = shop
    medium, large = product.skus
    with pytest.raises(OutOfStock) as err:
        orders.place_order(world.merchant, world.store_b, member,
                           [orders.LineRequest(medium.id, 1), orders.LineRequest(large.id, 2)],
                           pay_method=PayMethod.SANDBOX)
    db.session.rollback()
    assert err.value.details["available"] == 1 and "大杯" in err.value.message()
    assert stock(world.store_b, medium) == 1  # the first line's reservation was rolled back too


def test_bad_lines_are_refused(shop, world):
    _, product, member = shop
    with pytest.raises(BadRequest):
        orders.place_order(world.merchant, world.store, member, [], pay_method=PayMethod.SANDBOX)
    with pytest.raises(BadRequest):
        orders.place_order(world.merchant, world.store, member, [orders.LineRequest(product.skus[0].id, 0)],
                           pay_method=PayMethod.SANDBOX)
    other = make_product(world.other_merchant, "别家面包", stock={world.other_store: 3})
    with pytest.raises(BadRequest):
        orders.place_order(world.merchant, world.store, member, [orders.LineRequest(other.skus[0].id, 1)],
                           pay_method=PayMethod.SANDBOX)


def test_pickup_slot_must_be_in_opening_hours(shop, frozen):
    world, product, member = shop  # frozen at 14:00 Shanghai
    set_hours(world.store, "08:00", "21:00")
    with pytest.raises(StoreClosed):
        place(world, member, [(product.skus[0], 1)], pickup_at=frozen + timedelta(hours=8))  # 22:00
    order = place(world, member, [(product.skus[0], 1)], pickup_at=frozen + timedelta(hours=2))
    assert order.pickup_at == frozen + timedelta(hours=2)


def test_payment_makes_the_order_ready_with_a_voucher_and_points_once(shop, frozen):
    world, product, member = shop
    order = place(world, member, [(product.skus[0], 2)])
    payment = pay(order)
    db.session.refresh(order)
    assert order.status is OrderStatus.READY and order.paid_at == frozen
    voucher = db.session.get(Voucher, order.voucher_id)
    assert voucher.member_id == member.id and voucher.store_ids == [world.store.id]
    assert voucher.handover == "拿铁（中杯）×2" and voucher.value_fen == 5000
    assert db.session.get(Member, member.id).points == 50
    # the same notification again changes nothing
    payments.apply_payment_result(payments.PaymentResult(payment.out_trade_no, True, 5000, "T1"))
    commit()
    assert db.session.get(Member, member.id).points == 50
    assert db.session.query(Voucher).filter_by(member_id=member.id).count() == 1
    assert db.session.query(PointsEntry).filter_by(member_id=member.id).count() == 1


def test_wrong_amount_is_refused(shop):
    world, product, member = shop
    order = place(world, member, [(product.skus[0], 1)])
    payment = handover.open_payment(order)
    with pytest.raises(payments.AmountMismatch):
        payments.apply_payment_result(payments.PaymentResult(payment.out_trade_no, True, 1, "T1"))


def test_counter_redeem_picks_the_order_up_and_undo_puts_it_back(shop):
    world, product, member = shop
    order = place(world, member, [(product.skus[0], 1)])
    pay(order)
    voucher = db.session.get(Voucher, db.session.get(type(order), order.id).voucher_id)
    result = redeeming.redeem(voucher, counter(world))
    commit()
    db.session.refresh(order)
    assert order.status is OrderStatus.PICKED_UP and order.picked_up_at is not None
    with pytest.raises(PickedUp):
        orders.refund(order, reason="不想要了")
    db.session.rollback()
    redeeming.undo(result.redemption_id, counter(world), reason="点错了", undo_window_minutes=30)
    commit()
    db.session.refresh(order)
    assert order.status is OrderStatus.READY


def test_pay_at_store_is_ready_at_once_and_collected_on_pickup(shop):
    world, product, member = shop
    order = place(world, member, [(product.skus[0], 2)], pay_method=PayMethod.STORE)
    assert order.status is OrderStatus.READY and order.paid_at is None and order.expires_at is None
    voucher = db.session.get(Voucher, order.voucher_id)
    info = handover.counter_info(voucher)
    assert info["amount_due_fen"] == 5000 and info["pay_method"] == "store"
    redeeming.redeem(voucher, counter(world))
    commit()
    db.session.refresh(order)
    assert order.status is OrderStatus.PICKED_UP and order.paid_at is not None
    assert db.session.query(Payment).filter_by(order_id=order.id, status=PaymentStatus.PAID).one().amount_fen == 5000
    assert db.session.get(Member, member.id).points == 50


def test_unpaid_orders_are_cancelled_after_their_time_and_stock_returns(shop, frozen):
    from app.orders import tasks as order_tasks

    world, product, member = shop
    sku = product.skus[0]
    order = place(world, member, [(sku, 3)])
    assert stock(world.store, sku) == 2
    clock.advance(timedelta(minutes=14))
    assert order_tasks.cancel_expired() == 0
    clock.advance(timedelta(minutes=2))
    assert order_tasks.cancel_expired() == 1
    assert order_tasks.cancel_expired() == 0  # a second run (or worker) does nothing more
    db.session.refresh(order)
    assert order.status is OrderStatus.CANCELLED and stock(world.store, sku) == 5
    assert order.cancel_reason == "超时未支付，自动取消"


def test_payment_after_cancel_is_refunded_automatically(shop, frozen):
    world, product, member = shop
    order = place(world, member, [(product.skus[0], 1)])
    payment = handover.open_payment(order)
    commit()
    orders.cancel(order, reason="顾客取消")
    commit()
    payments.apply_payment_result(payments.PaymentResult(payment.out_trade_no, True, 2500, "LATE"))
    commit()
    refund = db.session.query(Refund).filter_by(order_id=order.id).one()
    assert refund.amount_fen == 2500
    assert refund.status is RefundStatus.SUCCEEDED  # the sandbox refund job ran after the commit
    db.session.refresh(order)
    assert order.status is OrderStatus.CANCELLED


def test_full_refund_voids_the_voucher_returns_stock_and_points(shop):
    world, product, member = shop
    sku = product.skus[0]
    order = place(world, member, [(sku, 2)])
    pay(order)
    db.session.refresh(order)
    voucher_id = order.voucher_id
    refund = orders.refund(order, reason="不想要了")
    commit()
    db.session.refresh(order)
    assert order.status is OrderStatus.REFUNDED and order.refunded_fen == 5000
    assert db.session.get(Voucher, voucher_id).status is VoucherStatus.VOID
    assert stock(world.store, sku) == 5
    assert db.session.get(Refund, refund.id).status is RefundStatus.SUCCEEDED
    assert db.session.get(Member, member.id).points == 0
    with pytest.raises(Void):
        vouchers.verify(db.session.get(Voucher, voucher_id), counter(world))


def test_refund_by_line_reissues_a_voucher_for_what_is_left(shop):
    world, product, member = shop
    medium, large = product.skus
    order = place(world, member, [(medium, 2), (large, 1)])
    pay(order)
    db.session.refresh(order)
    first_voucher = order.voucher_id
    line = next(l for l in order.lines if l.sku_id == medium.id)
    orders.refund(order, reason="少要一杯", quantities={line.id: 1})
    commit()
    db.session.refresh(order)
    assert order.status is OrderStatus.READY and order.refunded_fen == 2500
    assert db.session.get(Voucher, first_voucher).status is VoucherStatus.VOID
    new = db.session.get(Voucher, order.voucher_id)
    assert new.id != first_voucher and new.status is VoucherStatus.ISSUED
    assert new.handover == "拿铁（中杯）×1、拿铁（大杯）×1" and new.value_fen == 5700
    with pytest.raises(BadRequest):
        orders.refund(order, reason="再退", quantities={line.id: 2})


def test_refund_loses_to_a_redeem_that_came_first(shop):
    world, product, member = shop
    order = place(world, member, [(product.skus[0], 1)])
    pay(order)
    db.session.refresh(order)
    stale = db.session.get(type(order), order.id)
    redeeming.redeem(db.session.get(Voucher, order.voucher_id), counter(world))
    commit()
    # a refund prepared on a stale read of the order still cannot void a redeemed voucher
    stale.status = OrderStatus.READY
    with pytest.raises((AlreadyRedeemed, PickedUp)):
        orders.refund(stale, reason="抢先退款")
    db.session.rollback()


def test_cancel_only_while_unpaid(shop):
    world, product, member = shop
    order = place(world, member, [(product.skus[0], 1)])
    pay(order)
    db.session.refresh(order)
    with pytest.raises(OrderStateError):
        orders.cancel(order, reason="x")


def test_every_status_change_is_in_the_timeline(shop):
    world, product, member = shop
    order = place(world, member, [(product.skus[0], 1)])
    pay(order)
    events = db.session.query(OrderEvent).filter_by(order_id=order.id).order_by(OrderEvent.id).all()
    assert [e.status_after for e in events] == ["pending_payment", "ready"]


def test_undoing_a_pay_at_store_pickup_hands_the_money_back(shop):
    world, product, member = shop
    order = place(world, member, [(product.skus[0], 2)], pay_method=PayMethod.STORE)
    voucher = db.session.get(Voucher, order.voucher_id)
    result = redeeming.redeem(voucher, counter(world))
    commit()
    assert db.session.get(Member, member.id).points == 50
    redeeming.undo(result.redemption_id, counter(world), reason="顾客没带钱", undo_window_minutes=30)
    commit()
    db.session.refresh(order)
    assert order.status is OrderStatus.READY and order.paid_at is None
    assert handover.counter_info(db.session.get(Voucher, order.voucher_id))["amount_due_fen"] == 5000
    back = db.session.query(Refund).filter_by(order_id=order.id).one()
    assert back.amount_fen == 5000 and back.status is RefundStatus.SUCCEEDED
    assert db.session.get(Member, member.id).points == 0
    # picked up again later: collected again, points earned again
    redeeming.redeem(db.session.get(Voucher, order.voucher_id), counter(world))
    commit()
    db.session.refresh(order)
    assert order.status is OrderStatus.PICKED_UP and order.paid_at is not None
    assert db.session.get(Member, member.id).points == 50


def test_an_expired_pickup_voucher_can_still_be_refunded(shop, frozen):
    world, product, member = shop
    order = place(world, member, [(product.skus[0], 1)])
    pay(order)
    db.session.refresh(order)
    clock.advance(timedelta(days=8))
    db.session.execute(sa.update(Voucher).where(Voucher.id == order.voucher_id).values(status=VoucherStatus.EXPIRED))
    commit()
    orders.refund(order, reason="一直没来取")
    commit()
    db.session.refresh(order)
    assert order.status is OrderStatus.REFUNDED
    assert db.session.get(Voucher, order.voucher_id).status is VoucherStatus.VOID


def test_paying_an_order_past_its_time_cancels_it_instead(shop, frozen):
    world, product, member = shop
    order = place(world, member, [(product.skus[0], 1)])
    clock.advance(timedelta(minutes=16))
    assert orders.cancel_if_expired(order) is True
    commit()
    db.session.refresh(order)
    assert order.status is OrderStatus.CANCELLED


def test_no_sandbox_payments_in_production(client, app, shop):
    world, product, member = shop
    order = place(world, member, [(product.skus[0], 1)])
    payment = handover.open_payment(order)
    commit()
    app.config["SANDBOX_PAYMENTS"] = False
    try:
        assert client.get(f"/pay/sandbox/{payment.out_trade_no}").status_code == 404
        r = client.post(f"/pay/sandbox/{payment.out_trade_no}", data={"result": "success"})
        assert r.status_code == 404
        from app.payments.providers import online_method

        assert online_method(app.config) is None
    finally:
        app.config["SANDBOX_PAYMENTS"] = True
    db.session.refresh(order)
    assert order.status is OrderStatus.PENDING_PAYMENT


def test_a_cancel_tells_the_domains_above_once(shop):
    """orders.signals.cancelled is sent once per cancelled order (group-buys and pre-sales listen to it)."""
    from app.orders import signals

    world, product, member = shop
    order = place(world, member, [(product.skus[0], 1)])
    heard = []

    def listener(sender, **_):
        heard.append(sender.id)

    signals.cancelled.connect(listener)
    try:
        assert orders.cancel(order, reason="不要了")
    finally:
        signals.cancelled.disconnect(listener)
    assert heard == [order.id]
