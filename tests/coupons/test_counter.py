"""Coupons at the counter (API and the cashier's page share one path): verify shows the rule, threshold and
percent coupons need the bill and answer 优惠/应收, exchange and punch show the item, online-only and other
stores are refused, a retried redeem answers the same discount."""
from __future__ import annotations

from app.core.database import commit
from app.coupons.models import CampaignType, CouponRedemption
from app.extensions import db
from app.vouchers import codes
from tests.coupons.helpers import make_campaign
from tests.coupons.test_claim import claim
from tests.support.factories import make_member, make_product
from tests.vouchers.helpers import redeem, verify


def _coupon(world, **campaign):
    c = make_campaign(world.merchant, **campaign)
    coupon = claim(c, make_member(world.merchant).id)
    commit()
    return codes.pretty(coupon.voucher.code)


def test_a_threshold_coupon_needs_the_bill_and_answers_discount_and_payable(client, world, frozen):
    code = _coupon(world, name="满100减20", type=CampaignType.THRESHOLD, value_fen=2000, threshold_fen=10000)
    r = verify(client, world.counter_key, code)
    assert r.status_code == 200 and r.json["kind"] == "coupon"
    coupon = r.json["coupon"]
    assert coupon["type"] == "threshold" and coupon["rule"] == "满100减20" and coupon["amount_required"] is True
    assert coupon["threshold_fen"] == 10000 and coupon["value_fen"] == 2000 and r.json["discount_fen"] is None
    preview = verify(client, world.counter_key, code, amount_fen=12000)
    assert (preview.json["discount_fen"], preview.json["payable_fen"]) == (2000, 10000)
    r = redeem(client, world.counter_key, code, idempotency_key="k1")
    assert r.status_code == 400 and r.json["error"]["code"] == "amount_required"
    r = redeem(client, world.counter_key, code, amount_fen=9999, idempotency_key="k1")
    assert r.status_code == 409 and r.json["error"]["code"] == "below_threshold"
    assert r.json["error"]["threshold_fen"] == 10000
    r = redeem(client, world.counter_key, code, amount_fen=12000, idempotency_key="k1")
    assert r.status_code == 200 and (r.json["discount_fen"], r.json["payable_fen"]) == (2000, 10000)
    assert r.json["voucher"]["status"] == "redeemed"
    again = redeem(client, world.counter_key, code, amount_fen=12000, idempotency_key="k1")
    assert again.status_code == 200 and again.json == r.json
    assert db.session.get(CouponRedemption, r.json["redemption"]["id"]).discount_fen == 2000
    assert redeem(client, world.counter_key, code, amount_fen=12000).json["error"]["code"] == "already_redeemed"


def test_a_percent_coupon_rounds_down_and_caps(client, world, frozen):
    code = _coupon(world, name="八五折", type=CampaignType.PERCENT, percent_off=15, cap_fen=1000)
    r = redeem(client, world.counter_key, code, amount_fen=3333)
    assert (r.json["discount_fen"], r.json["payable_fen"]) == (499, 2834)  # 15% of 33.33 = 4.9995 → 4.99
    capped = _coupon(world, name="八五折", type=CampaignType.PERCENT, percent_off=15, cap_fen=1000)
    r = verify(client, world.counter_key, capped, amount_fen=100000)
    assert r.json["discount_fen"] == 1000 and r.json["coupon"]["rule"] == "8.5折 最高减10元"


def test_exchange_and_punch_show_the_item_and_need_no_amount(client, world, frozen):
    latte = make_product(world.merchant, "拿铁", (("中杯", 2800, None),))
    code = _coupon(world, name="拿铁兑换券", type=CampaignType.EXCHANGE, sku_id=latte.skus[0].id)
    r = verify(client, world.counter_key, code)
    assert r.json["coupon"]["sku"] == {"id": latte.skus[0].id, "name": "拿铁（中杯）"}
    assert r.json["coupon"]["amount_required"] is False and r.json["voucher"]["handover"] == "兑换 拿铁（中杯）"
    r = redeem(client, world.counter_key, code)
    assert r.status_code == 200 and r.json["discount_fen"] is None and r.json["payable_fen"] is None
    card = _coupon(world, name="咖啡次卡", type=CampaignType.PUNCH, uses=3, online=False, sku_id=latte.skus[0].id)
    r = redeem(client, world.counter_key, card)
    assert r.status_code == 200 and r.json["coupon"]["uses_left"] == 2 and r.json["voucher"]["uses_left"] == 2


def test_online_only_and_other_stores_are_refused(client, world, frozen):
    online = _coupon(world, online=True, counter=False)
    r = verify(client, world.counter_key, online)
    assert r.status_code == 409 and r.json["error"]["code"] == "online_only"
    r = redeem(client, world.counter_key, online)
    assert r.status_code == 409 and r.json["error"]["code"] == "online_only"
    elsewhere = _coupon(world, store_ids=[world.store_b.id])
    r = redeem(client, world.counter_key, elsewhere)
    assert r.status_code == 403 and r.json["error"]["code"] == "wrong_store"
    assert redeem(client, world.counter_key_b, elsewhere).status_code == 200


def test_the_cashiers_page_redeems_a_coupon_with_a_bill(app, cashier_client, world, frozen):
    code = _coupon(world, name="满50减10", type=CampaignType.THRESHOLD, value_fen=1000, threshold_fen=5000)
    r = cashier_client.post("/counter/verify", json={"code": code, "amount_fen": 6000})
    assert r.status_code == 200 and r.json["payable_fen"] == 5000
    r = cashier_client.post("/counter/redeem", json={"code": code, "amount_fen": 6000, "idempotency_key": "p1"})
    assert r.status_code == 200 and r.json["discount_fen"] == 1000


def test_coupon_answers_match_the_openapi_document(client, world, frozen):
    from tests.web.test_openapi import check_response

    code = _coupon(world, name="满100减20", type=CampaignType.THRESHOLD, value_fen=2000, threshold_fen=10000)
    check_response("/counter/verify", "post", verify(client, world.counter_key, code, amount_fen=12000))
    for body, status in (({}, 400), ({"amount_fen": 100}, 409), ({"amount_fen": 12000}, 200)):
        r = redeem(client, world.counter_key, code, idempotency_key="doc", **body)
        assert r.status_code == status
        check_response("/counter/redeem", "post", r)
    online = _coupon(world, counter=False)
    r = verify(client, world.counter_key, online)
    assert r.status_code == 409
    check_response("/counter/verify", "post", r)
