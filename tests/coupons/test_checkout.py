"""A coupon on an online order: what it takes off and from which lines, spending it with the order, ¥0
orders, and giving it back on cancel or a whole refund (not once expired, not on a partial refund)."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core import clock
from app.core.database import commit
from app.coupons import checkout as coupon_checkout
from app.coupons.errors import CouponNotUsable, CouponTaken
from app.coupons.models import CampaignType, Coupon
from app.extensions import db
from app.orders import handover
from app.orders import service as orders
from app.orders.models import OrderLineAdjustment, OrderStatus
from app.payments import service as payments
from app.payments.models import Payment, PayMethod
from app.pricing import AdjustmentKind
from app.vouchers.models import VoucherStatus
from tests.coupons.helpers import make_campaign
from tests.coupons.test_claim import claim
from tests.support.factories import make_member, make_product


@pytest.fixture
def shop(world):
    latte = make_product(world.merchant, "拿铁", (("中杯", 1000, None), ("大杯", 1000, 900)), stock={world.store: 50})
    bread = make_product(world.merchant, "可颂", (("原味", 1000, None),), stock={world.store: 50})
    member = make_member(world.merchant, "小明")
    commit()
    return world, latte, bread, member


def place(world, member, lines, **kw):
    kw.setdefault("pay_method", PayMethod.SANDBOX)
    order = orders.place_order(world.merchant, world.store, member,
                               [orders.LineRequest(s.id, q) for s, q in lines], **kw)
    commit()
    return order


def coupon_adjustments(order):
    return {line.sku_id: sum(a.amount_fen for a in line.adjustments if a.kind is AdjustmentKind.COUPON)
            for line in order.lines}


def test_ten_off_three_lines_of_ten_sums_to_exactly_ten_and_is_stored_per_line(shop, frozen):
    world, latte, bread, member = shop
    c = make_campaign(world.merchant, value_fen=1000)
    coupon = claim(c, member.id)
    commit()
    order = place(world, member, [(latte.skus[0], 1), (bread.skus[0], 1), (latte.skus[1], 1)], coupon_id=coupon.id)
    # 拿铁大杯 at member price 900: lines 1000, 1000, 900 → 10 yuan split 345 / 345 / 310 (largest remainder).
    shares = coupon_adjustments(order)
    assert sum(shares.values()) == 1000 and all(v > 0 for v in shares.values())
    assert order.total_fen == 2900 - 1000 and sum(l.payable_fen for l in order.lines) == order.total_fen
    assert db.session.execute(sa.select(sa.func.count()).select_from(OrderLineAdjustment).where(
        OrderLineAdjustment.source == f"coupon:{coupon.id}")).scalar() == 3
    db.session.refresh(coupon)
    assert coupon.order_id == order.id and coupon.voucher.status is VoucherStatus.REDEEMED


def test_split_weighs_quantity_and_applies_only_to_its_products(shop, frozen):
    world, latte, bread, member = shop
    c = make_campaign(world.merchant, type=CampaignType.THRESHOLD, value_fen=300, threshold_fen=3000,
                      product_ids=[latte.id])
    coupon = claim(c, member.id)
    commit()
    order = place(world, member, [(latte.skus[0], 3), (bread.skus[0], 1)], coupon_id=coupon.id)
    shares = coupon_adjustments(order)
    assert shares == {latte.skus[0].id: 300, bread.skus[0].id: 0}
    # Below the threshold on the applicable lines (the bread does not count): refused, saying why.
    c2 = make_campaign(world.merchant, type=CampaignType.THRESHOLD, value_fen=300, threshold_fen=3000,
                       product_ids=[latte.id])
    second = claim(c2, member.id)
    commit()
    with pytest.raises(CouponNotUsable) as refused:
        place(world, member, [(latte.skus[0], 2), (bread.skus[0], 5)], coupon_id=second.id)
    assert "30" in refused.value.message("zh")


def test_a_discount_larger_than_the_order_makes_a_zero_order_paid_without_a_provider(shop, frozen):
    world, latte, bread, member = shop
    c = make_campaign(world.merchant, value_fen=5000)
    coupon = claim(c, member.id)
    commit()
    order = place(world, member, [(bread.skus[0], 2)], coupon_id=coupon.id)
    assert order.total_fen == 0 and coupon_adjustments(order) == {bread.skus[0].id: 2000}
    assert order.status is OrderStatus.READY and order.paid_at == frozen and order.voucher_id is not None
    assert db.session.execute(sa.select(sa.func.count()).select_from(Payment).where(
        Payment.order_id == order.id)).scalar() == 0
    # Refunding it returns no money (there was none) and gives the coupon back.
    assert orders.refund(order, reason="不想要了") is None
    commit()
    db.session.refresh(order)
    assert order.status is OrderStatus.REFUNDED
    db.session.refresh(coupon)
    assert coupon.order_id is None and coupon.voucher.status is VoucherStatus.ISSUED


def test_percent_is_rounded_down_and_capped_exchange_frees_one_unit(shop, frozen):
    world, latte, bread, member = shop
    pct = claim(make_campaign(world.merchant, type=CampaignType.PERCENT, percent_off=15, cap_fen=200), member.id)
    swap = claim(make_campaign(world.merchant, type=CampaignType.EXCHANGE, sku_id=bread.skus[0].id), member.id)
    commit()
    small = place(world, member, [(bread.skus[0], 1), (latte.skus[0], 0 + 1)], coupon_id=pct.id)
    assert small.list_total_fen - small.total_fen == 200  # 15% of 2000 is 300, capped at 200
    free = place(world, member, [(bread.skus[0], 3)], coupon_id=swap.id)
    assert free.total_fen == 2000


def test_one_coupon_one_order(shop, frozen):
    world, latte, bread, member = shop
    coupon = claim(make_campaign(world.merchant), member.id)
    commit()
    place(world, member, [(bread.skus[0], 1)], coupon_id=coupon.id)
    with pytest.raises(CouponNotUsable):
        place(world, member, [(bread.skus[0], 1)], coupon_id=coupon.id)
    db.session.rollback()
    # Even when both orders chose it before either spent it, the conditional UPDATE lets one through.
    fresh = claim(make_campaign(world.merchant), member.id)
    commit()
    first = orders.place_order(world.merchant, world.store, member, [orders.LineRequest(bread.skus[0].id, 1)],
                               pay_method=PayMethod.SANDBOX)
    coupon_checkout.use(fresh.id, first.id, first.number, now=frozen)
    with pytest.raises(CouponTaken):
        coupon_checkout.use(fresh.id, first.id + 10**6, "X", now=frozen)


def test_someone_elses_coupon_is_not_usable(shop, frozen):
    world, latte, bread, member = shop
    other = make_member(world.merchant, "别人")
    coupon = claim(make_campaign(world.merchant), other.id)
    commit()
    with pytest.raises(CouponNotUsable):
        place(world, member, [(bread.skus[0], 1)], coupon_id=coupon.id)


def test_cancel_gives_the_coupon_back_unless_it_expired(shop, frozen):
    world, latte, bread, member = shop
    c = make_campaign(world.merchant, days_after_claim=1)
    kept = claim(c, member.id)
    commit()
    order = place(world, member, [(bread.skus[0], 1)], coupon_id=kept.id)
    assert orders.cancel(order, reason="顾客取消")
    commit()
    db.session.refresh(kept)
    assert kept.order_id is None and kept.voucher.status is VoucherStatus.ISSUED and kept.voucher.uses_left == 1
    # Used again, then the order expires unpaid after the coupon's last day: it stays used.
    order = place(world, member, [(bread.skus[0], 1)], coupon_id=kept.id)
    clock.advance(timedelta(days=1))
    assert orders.cancel_if_expired(order)
    commit()
    db.session.refresh(kept)
    assert kept.order_id == order.id and kept.voucher.status is VoucherStatus.REDEEMED
    assert coupon_checkout.state_on_order(order.id, [f"coupon:{kept.id}"], closed=True) == "not_returned"


def test_a_partial_refund_keeps_the_coupon_and_returns_that_lines_share(shop, frozen):
    world, latte, bread, member = shop
    coupon = claim(make_campaign(world.merchant, value_fen=1000), member.id)
    commit()
    order = place(world, member, [(latte.skus[0], 1), (bread.skus[0], 3)], coupon_id=coupon.id)
    payment = handover.open_payment(order)
    payments.apply_payment_result(payments.PaymentResult(payment.out_trade_no, True, payment.amount_fen, "T1"))
    commit()
    db.session.refresh(order)
    bread_line = next(l for l in order.lines if l.sku_id == bread.skus[0].id)
    refund = orders.refund(order, reason="买多了", quantities={bread_line.id: 3})
    commit()
    assert refund.amount_fen == bread_line.payable_fen == 3000 - 750
    db.session.refresh(coupon)
    assert coupon.order_id == order.id
    latte_line = next(l for l in order.lines if l.sku_id == latte.skus[0].id)
    last = orders.refund(db.session.get(type(order), order.id), reason="都不要了", quantities={latte_line.id: 1})
    commit()
    assert refund.amount_fen + last.amount_fen == order.total_fen
    db.session.refresh(coupon)
    assert coupon.order_id is None and coupon.voucher.status is VoucherStatus.ISSUED
