"""Reissue (app.vouchers.reissue): a new voucher with the same terms replacing a lost or revoked one; the
old one ends, both are linked, and an order's pickup link moves to the new one."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core import clock
from app.core.database import commit
from app.core.errors import BadRequest
from app.extensions import db
from app.orders import handover
from app.orders import service as orders
from app.orders.errors import PickupVoucherClosed, PickupVoucherReplaced
from app.orders.models import Order, OrderStatus, OrderVoucher
from app.payments import service as payments
from app.payments.models import PayMethod
from app.vouchers import redeem as redeeming
from app.vouchers import service as vouchers
from app.vouchers.errors import AlreadyRedeemed, AlreadyReissued, Expired, NotReissuable, Revoked
from app.vouchers.models import EventKind, Voucher, VoucherEvent, VoucherStatus
from app.vouchers.reissue import reissue, replacement_of
from tests.support.factories import make_member, make_product, make_voucher


def counter(world, store=None):
    return vouchers.Actor(merchant_id=world.merchant.id, store_id=(store or world.store).id,
                          staff_id=world.cashier.id)


def test_a_lost_voucher_is_replaced_with_the_same_terms_and_ends(world, frozen):
    member = make_member(world.merchant, "小明")
    old = make_voucher(world.merchant, title="十次咖啡卡", handover="任意咖啡一杯", value_fen=3000, note="会员卡",
                       uses=10, min_interval_seconds=3600, valid_days=30, store_ids=[world.store.id],
                       member_id=member.id)
    redeeming.redeem(old, counter(world), uses=3, idempotency_key="k1")
    commit()
    new = reissue(db.session.get(Voucher, old.id), reason="顾客丢了卡", staff_id=world.owner.id)
    commit()
    old = db.session.get(Voucher, old.id)
    assert old.status is VoucherStatus.REVOKED and "顾客丢了卡" in old.revoke_reason
    assert new.code != old.code and new.replaces_id == old.id and replacement_of(old).id == new.id
    assert new.status is VoucherStatus.ISSUED and (new.uses_total, new.uses_left) == (7, 7)
    same = ("title", "handover", "value_fen", "note", "source", "member_id", "min_interval_seconds", "valid_from",
            "valid_until", "all_stores", "store_ids", "next_use_at")
    assert {f: getattr(new, f) for f in same} == {f: getattr(old, f) for f in same}
    issued = db.session.execute(sa.select(VoucherEvent).where(VoucherEvent.voucher_id == new.id)).scalar_one()
    assert issued.kind is EventKind.ISSUED and issued.staff_id == world.owner.id
    # the old code no longer works at the counter; the new one does, after the interval the old one set
    with pytest.raises(Revoked):
        vouchers.verify(old, counter(world))
    clock.advance(timedelta(hours=1))
    assert vouchers.verify(new, counter(world)) is new


def test_a_revoked_voucher_is_replaced_as_it_is(world):
    old = make_voucher(world.merchant)
    vouchers.revoke(old, reason="误撤回", staff_id=world.owner.id)
    commit()
    new = reissue(old, reason="撤回错了")
    assert new.replaces_id == old.id and new.uses_left == 1
    revoked = db.session.execute(sa.select(sa.func.count()).where(
        VoucherEvent.voucher_id == old.id, VoucherEvent.kind == EventKind.REVOKED)).scalar()
    assert revoked == 1  # not revoked twice


def test_one_replacement_per_voucher(world):
    old = make_voucher(world.merchant)
    first = reissue(old, reason="丢了")
    commit()
    with pytest.raises(AlreadyReissued) as err:
        reissue(db.session.get(Voucher, old.id), reason="又丢了")
    assert first.code[:4] in err.value.message()


def test_the_database_refuses_a_second_replacement(world):
    """Two reissues at the same moment: the unique replaces_id decides (the second's insert fails)."""
    old = make_voucher(world.merchant)
    reissue(old, reason="丢了")
    commit()
    twin = Voucher(merchant_id=world.merchant.id, code="X" * 12, title="t", source=old.source,
                   status=VoucherStatus.ISSUED, uses_total=1, uses_left=1, valid_from=old.valid_from,
                   replaces_id=old.id)
    db.session.add(twin)
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("ended", ["redeemed", "void"])
def test_a_used_or_voided_voucher_is_not_replaced(world, ended):
    v = make_voucher(world.merchant)
    if ended == "redeemed":
        redeeming.redeem(v, counter(world), uses=1, idempotency_key="k")
    else:
        vouchers.void(v, reason="订单退款")
    commit()
    with pytest.raises(NotReissuable) as err:
        reissue(db.session.get(Voucher, v.id), reason="丢了")
    assert "不能补发" in err.value.message() and err.value.status == 409
    assert replacement_of(v) is None


def test_an_expired_voucher_is_not_replaced_and_a_reason_is_needed(world, frozen):
    v = make_voucher(world.merchant, valid_days=1)
    with pytest.raises(BadRequest):
        reissue(v, reason="  ")
    clock.advance(timedelta(days=2))
    with pytest.raises(Expired):
        reissue(v, reason="丢了")
    assert db.session.get(Voucher, v.id).status is VoucherStatus.ISSUED  # nothing changed


def test_a_redeem_that_got_there_first_wins(world):
    """The voucher read as unused, then another worker's redeem commits (a Core UPDATE the ORM does not see):
    the reissue's revoke is conditional, so it is refused with that redemption and nothing is issued."""
    v = make_voucher(world.merchant)
    db.session.execute(sa.update(Voucher).where(Voucher.id == v.id).values(
        status=VoucherStatus.REDEEMED.value, uses_left=0).execution_options(synchronize_session=False))
    assert v.status is VoucherStatus.ISSUED  # what this request read
    with pytest.raises(AlreadyRedeemed):
        reissue(v, reason="丢了")
    assert replacement_of(v) is None


def test_an_orders_pickup_voucher_is_reissued_and_the_order_hands_over_with_the_new_one(world):
    product = make_product(world.merchant, "拿铁", (("中杯", 2800, None),), stock={world.store: 5})
    order = orders.place_order(world.merchant, world.store, make_member(world.merchant),
                               [orders.LineRequest(product.skus[0].id, 1)], pay_method=PayMethod.STORE)
    commit()
    old = db.session.get(Voucher, order.voucher_id)
    new = reissue(old, reason="顾客删了消息")
    commit()
    order = db.session.get(Order, order.id)
    assert order.voucher_id == new.id and new.store_ids == [world.store.id]
    links = dict(db.session.execute(sa.select(OrderVoucher.voucher_id, OrderVoucher.generation)
                                    .where(OrderVoucher.order_id == order.id)).all())
    assert links == {old.id: 1, new.id: 2}  # the old voucher's history still names the order
    assert handover.order_for_voucher(new).id == order.id and handover.order_for_voucher(old).id == order.id
    assert handover.counter_info(new)["amount_due_fen"] == 2800
    redeeming.redeem(new, counter(world), uses=1, idempotency_key="k")
    commit()
    assert db.session.get(Order, order.id).status is OrderStatus.PICKED_UP


def _pickup_order(world, quantity=2, pay_method=PayMethod.STORE):
    product = make_product(world.merchant, "可颂", (("原味", 1500, None),), stock={world.store: 5})
    order = orders.place_order(world.merchant, world.store, make_member(world.merchant),
                               [orders.LineRequest(product.skus[0].id, quantity)], pay_method=pay_method)
    commit()
    return order


def _pay(order):
    payment = handover.open_payment(order)
    payments.apply_payment_result(payments.PaymentResult(payment.out_trade_no, True, payment.amount_fen, "T1"))
    commit()


def test_a_refunded_orders_revoked_voucher_is_not_reissued(world):
    order = _pickup_order(world, pay_method=PayMethod.SANDBOX)
    _pay(order)
    old = db.session.get(Voucher, order.voucher_id)
    vouchers.revoke(old, reason="券码泄露")
    commit()
    # the order can still be refunded: a revoked voucher is unusable already and stays revoked
    orders.refund(db.session.get(Order, order.id), reason="不要了")
    commit()
    assert db.session.get(Order, order.id).status is OrderStatus.REFUNDED
    assert db.session.get(Voucher, old.id).status is VoucherStatus.REVOKED
    with pytest.raises(PickupVoucherClosed) as err:
        reissue(db.session.get(Voucher, old.id), reason="顾客要求")
    db.session.rollback()
    assert "不能补发" in err.value.message() and replacement_of(old) is None


def test_an_older_generation_is_not_reissued_and_a_partial_refund_replaces_a_revoked_voucher(world):
    order = _pickup_order(world, pay_method=PayMethod.SANDBOX)
    _pay(order)
    first = db.session.get(Voucher, order.voucher_id)
    vouchers.revoke(first, reason="券码泄露")
    commit()
    order = db.session.get(Order, order.id)
    orders.refund(order, reason="少要一个", quantities={order.lines[0].id: 1})
    commit()
    order = db.session.get(Order, order.id)
    assert order.status is OrderStatus.READY and order.voucher_id != first.id
    assert db.session.get(Voucher, order.voucher_id).status is VoucherStatus.ISSUED
    with pytest.raises(PickupVoucherReplaced):
        reissue(db.session.get(Voucher, first.id), reason="顾客要求")
    db.session.rollback()
    assert replacement_of(first) is None
