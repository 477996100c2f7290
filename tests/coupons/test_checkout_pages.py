"""Checkout with coupons: the one that saves most is chosen, another or none can be picked, the order keeps
it per line; ¥0 skips paying; the order page says whether the coupon came back after a refund."""
from __future__ import annotations

import re

import sqlalchemy as sa

from app.coupons.models import CampaignType, Coupon
from app.extensions import db as _db
from app.orders.models import Order, OrderStatus
from app.vouchers.models import VoucherStatus
from tests.coupons.helpers import make_campaign
from tests.coupons.test_claim import claim
from tests.web.test_orders_pages import (  # noqa: F401  (fixtures)
    SLUG, add, me, order_id_of, pay_in_sandbox, place, shop, text,
)


def offers(page: str) -> list[tuple[str, bool]]:
    return [(m.group(2), bool(m.group(3))) for m in re.finditer(
        r'name="coupon" value="(\d+)" data-testid="coupon-option"\s+data-coupon-pick="[^"]*coupon=(\d+)"\s*(checked)?',
        page)]


def test_the_best_coupon_is_preselected_and_another_or_none_can_be_chosen(me, shop):
    small = claim(make_campaign(shop.merchant, name="立减3元", value_fen=300), shop.member.id)
    big = claim(make_campaign(shop.merchant, name="满50减10", type=CampaignType.THRESHOLD, value_fen=1000,
                              threshold_fen=5000), shop.member.id)
    useless = claim(make_campaign(shop.merchant, name="只限贝果", value_fen=500, product_ids=[shop.bagel.id]),
                    shop.member.id)
    _db.session.commit()
    add(me, shop, shop.medium, 2)  # 2 × member price 25.00 = 50.00
    page = text(me.get(f"/m/{SLUG}/checkout"))
    assert offers(page) == [(str(big.id), True), (str(small.id), False)]  # the bagel coupon saves nothing here
    assert 'data-testid="checkout-total">¥40.00' in page and 'data-kind="coupon">−¥10.00' in page
    page = text(me.get(f"/m/{SLUG}/checkout?coupon={small.id}"))
    assert offers(page) == [(str(big.id), False), (str(small.id), True)]
    assert 'data-testid="checkout-total">¥47.00' in page
    page = text(me.get(f"/m/{SLUG}/checkout?coupon=none"))
    assert 'data-testid="checkout-total">¥50.00' in page and 'value="none" data-testid="coupon-none"' in page
    r = place(me, coupon=str(small.id))
    order = _db.session.get(Order, order_id_of(r))
    assert order.total_fen == 4700
    assert _db.session.get(Coupon, small.id).order_id == order.id
    assert _db.session.get(Coupon, big.id).order_id is None and _db.session.get(Coupon, useless.id).order_id is None
    # Used: it is offered no more.
    add(me, shop, shop.medium, 2)
    assert str(small.id) not in [o for o, _ in offers(text(me.get(f"/m/{SLUG}/checkout")))]


def test_a_zero_order_needs_no_payment_and_a_refund_gives_the_coupon_back(me, shop):
    coupon = claim(make_campaign(shop.merchant, name="免单券", value_fen=10000), shop.member.id)
    _db.session.commit()
    add(me, shop, shop.plain, 1)
    r = place(me, coupon=str(coupon.id))
    order_id = order_id_of(r)
    assert r.headers["Location"].endswith(f"/orders/{order_id}")  # straight to the order, not to paying
    order = _db.session.get(Order, order_id)
    assert order.status is OrderStatus.READY and order.total_fen == 0
    r = me.post(f"/orders/{order_id}/refund", data={"reason": "不想要了"})
    assert r.status_code in (302, 303)
    page = text(me.get(f"/orders/{order_id}"))
    assert 'data-state="returned"' in page and "优惠券已退回" in page
    assert _db.session.get(Coupon, coupon.id).voucher.status is VoucherStatus.ISSUED


def test_paying_for_an_order_with_a_coupon_charges_the_discounted_amount(me, shop):
    coupon = claim(make_campaign(shop.merchant, value_fen=500), shop.member.id)
    _db.session.commit()
    add(me, shop, shop.plain, 2)
    order_id = order_id_of(place(me, coupon=str(coupon.id)))
    pay_in_sandbox(me, order_id)
    order = _db.session.get(Order, order_id)
    assert order.status is OrderStatus.READY and order.total_fen == 2500
    page = text(me.get(f"/orders/{order_id}"))
    assert 'data-kind="coupon">−¥5.00' in page and 'data-testid="coupon-state"' not in page
