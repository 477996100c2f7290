"""Coupons in real Chromium: a consumer (phone) finds a 折扣 campaign from the home page, signs in, claims it,
and finds it under Me → 优惠券 with its code; a cashier (tablet) redeems it on /counter with a bill amount and
sees 优惠 and 应收 before confirming."""
from __future__ import annotations

import re
import uuid

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, console_sign_in, desktop_context, sign_in

pytestmark = pytest.mark.browser


def _percent_campaign(engine, merchant_id: int, name: str) -> int:
    with engine.begin() as c:
        return c.execute(sa.text(
            "INSERT INTO campaigns (merchant_id, name, rules_text, type, percent_off, cap_fen, uses, quota, claimed,"
            " per_member, days_after_claim, all_stores, all_products, online, counter, with_member_price,"
            " transferable, status, created_at, updated_at) VALUES (:m, :n, '全场通用，每人限领 1 张', 'percent', 20,"
            " 1000, 1, 100, 0, 1, 7, true, true, true, true, true, false, 'active', CURRENT_TIMESTAMP,"
            " CURRENT_TIMESTAMP) RETURNING id"), {"m": merchant_id, "n": name}).scalar()


def test_claim_on_the_phone_then_redeem_at_the_counter_with_a_bill(phone, tablet, base, demo, db_engine, shot):
    slug = demo["merchant"]["slug"]
    name = f"八折券{uuid.uuid4().hex[:4]}"
    campaign_id = _percent_campaign(db_engine, demo["merchant"]["id"], name)

    phone.goto(f"{base}/m/{slug}/")
    phone.get_by_test_id("coupon-center-link").click()
    card = phone.locator(f'[data-testid="coupon-card"][data-campaign-id="{campaign_id}"]')
    expect(card).to_contain_text("8折 最高减10元")
    card.click()
    expect(phone.get_by_test_id("rules-text")).to_contain_text("每人限领 1 张")
    phone.get_by_test_id("claim").click()
    phone.wait_for_url(re.compile(rf"/m/{slug}/signin"))
    phone.get_by_test_id("demo-nickname").fill(f"领券{uuid.uuid4().hex[:6]}")
    phone.get_by_test_id("demo-submit").click()
    phone.wait_for_url(re.compile(rf"/m/{slug}/coupons/{campaign_id}$"))
    phone.get_by_test_id("claim").click()
    phone.wait_for_url(re.compile(rf"/m/{slug}/me/coupons"))
    mine = phone.locator(f'[data-testid="my-coupon"][data-campaign-id="{campaign_id}"]')
    expect(mine).to_contain_text("8折 最高减10元")
    code = mine.get_by_test_id("coupon-code").inner_text().strip()
    shot(phone, "coupon-mine")
    mine.click()
    expect(phone.get_by_test_id("qr")).to_be_visible()
    expect(phone.get_by_test_id("coupon-rule")).to_contain_text("8折")

    sign_in(tablet, base)
    tablet.get_by_test_id("code-input").fill(code)
    tablet.get_by_test_id("lookup").click()
    expect(tablet.get_by_test_id("result")).to_have_attribute("data-state", "ok")
    expect(tablet.get_by_test_id("coupon-rule")).to_contain_text("8折 最高减10元")
    confirm = tablet.get_by_test_id("confirm")
    expect(confirm).to_be_disabled()  # the bill comes first
    tablet.get_by_test_id("bill-amount").fill("38.50")
    expect(tablet.get_by_test_id("coupon-money")).to_have_text("优惠 ¥7.70 · 应收 ¥30.80")
    expect(confirm).to_be_enabled()
    shot(tablet, "counter-coupon")
    confirm.click()
    expect(tablet.get_by_test_id("success")).to_be_visible()
    expect(tablet.get_by_test_id("success-money")).to_have_text("优惠 ¥7.70 · 应收 ¥30.80")


def test_console_campaign_claim_checkout_refund_and_gift(browser, phone, base, demo, shot):
    from tests.browser.test_purchase import counter, open_product, place_and_pay

    slug = demo["merchant"]["slug"]
    name = f"满30减5-{uuid.uuid4().hex[:4]}"
    desk = desktop_context(browser)
    owner = desk.new_page()
    console_sign_in(owner, base, "owner")
    owner.get_by_test_id("nav-campaigns").click()
    owner.get_by_test_id("campaign-new").click()
    owner.get_by_test_id("campaign-name").fill(name)
    owner.get_by_test_id("campaign-type").select_option("threshold")
    owner.get_by_test_id("campaign-value_yuan").fill("5")
    owner.get_by_test_id("campaign-threshold_yuan").fill("5")  # not above the value: refused in words
    owner.get_by_test_id("campaign-transferable").check()
    owner.get_by_test_id("campaign-save").click()
    expect(owner.get_by_test_id("form-error")).to_contain_text("门槛必须高于优惠金额")
    owner.get_by_test_id("campaign-threshold_yuan").fill("30")
    expect(owner.get_by_test_id("preview-card")).to_contain_text("满30减5")  # the consumer's card, as typed
    owner.get_by_test_id("campaign-save").click()
    expect(owner.get_by_test_id("campaign-rule")).to_have_text("满30减5")
    campaign_id = int(re.search(r"/campaigns/(\d+)$", owner.url).group(1))
    shot(owner, "console-campaign")

    # The consumer claims it from the home page's 领券中心, then buys 2 lattes (member price ¥50).
    phone.goto(f"{base}/m/{slug}/")
    phone.get_by_test_id("coupon-center-link").click()
    phone.locator(f'[data-testid="coupon-card"][data-campaign-id="{campaign_id}"]').click()
    phone.get_by_test_id("claim").click()
    phone.wait_for_url(re.compile(rf"/m/{slug}/signin"))
    phone.get_by_test_id("demo-nickname").fill(f"用券{uuid.uuid4().hex[:6]}")
    phone.get_by_test_id("demo-submit").click()
    phone.wait_for_url(re.compile(rf"/m/{slug}/coupons/{campaign_id}$"))
    phone.get_by_test_id("claim").click()
    phone.wait_for_url(re.compile(rf"/m/{slug}/me/coupons"))
    open_product(phone, base, "拿铁")
    phone.locator("label.pd-sku", has_text="中杯").click()
    phone.get_by_test_id("add").click()
    phone.wait_for_url(re.compile(rf"/m/{slug}/cart"))
    phone.get_by_test_id("qty-plus").click()
    expect(phone.get_by_test_id("qty")).to_have_text("2")
    phone.get_by_test_id("go-checkout").click()
    phone.wait_for_url(re.compile(rf"/m/{slug}/checkout"))
    option = phone.get_by_test_id("coupon-option")
    expect(option).to_be_checked()  # the one that saves most, chosen for the shopper
    expect(phone.get_by_test_id("checkout-total")).to_have_text("¥45.00")
    phone.locator("label", has=phone.get_by_test_id("coupon-none")).click()  # none: the page is quoted again
    expect(phone.get_by_test_id("checkout-total")).to_have_text("¥50.00")
    phone.locator("label", has=option).click()
    expect(phone.get_by_test_id("checkout-total")).to_have_text("¥45.00")
    shot(phone, "checkout-coupon")
    order_id = place_and_pay(phone, base)
    expect(phone.locator('[data-testid="order-discount"][data-kind="coupon"]')).to_have_text("−¥5.00")

    # A whole refund gives the coupon back.
    phone.get_by_test_id("refund-button").click()
    phone.locator("[data-testid=refund-form] label", has_text="不想要了").click()
    phone.get_by_test_id("refund-submit").click()
    with phone.expect_navigation(url=re.compile(rf"/orders/{order_id}$")):
        phone.get_by_test_id("confirm-yes").click()
    expect(phone.get_by_test_id("order-status")).to_have_text("已退款")
    expect(phone.get_by_test_id("coupon-state")).to_have_attribute("data-state", "returned")

    # Given to a friend: a second browser context accepts; the giver's code stops working.
    phone.goto(f"{base}/m/{slug}/me/coupons")
    mine = phone.locator(f'[data-testid="my-coupon"][data-campaign-id="{campaign_id}"]')
    old_code = mine.get_by_test_id("coupon-code").inner_text().strip()
    phone.get_by_test_id("gift").click()
    link = phone.get_by_test_id("gift-link").inner_text().strip()
    friend_context = browser.new_context(**PHONE)
    friend_context.set_default_timeout(5000)
    friend = friend_context.new_page()
    friend.goto(link)
    friend.get_by_test_id("gift-accept").click()
    friend.get_by_test_id("demo-nickname").fill(f"朋友{uuid.uuid4().hex[:6]}")
    friend.get_by_test_id("demo-submit").click()
    friend.wait_for_url(re.compile(r"/gift/"))
    friend.get_by_test_id("gift-accept").click()
    friend.wait_for_url(re.compile(rf"/m/{slug}/me/coupons"))
    theirs = friend.locator(f'[data-testid="my-coupon"][data-campaign-id="{campaign_id}"]')
    new_code = theirs.get_by_test_id("coupon-code").inner_text().strip()
    assert new_code != old_code
    store = demo["stores"][0]
    status, body = counter(base, store["counter_key"], "verify", old_code)
    assert status == 409 and body["error"]["code"] == "void", body
    status, body = counter(base, store["counter_key"], "verify", new_code)
    assert status == 200 and body["kind"] == "coupon", body
    phone.reload()  # the giver's gift page says it was accepted, and so does their list
    expect(phone.get_by_test_id("gift-result")).to_have_text("朋友已领取，原券码已失效")
    phone.goto(f"{base}/m/{slug}/me/coupons")
    expect(phone.get_by_test_id("gift-state")).to_have_attribute("data-state", "accepted")
    friend_context.close()
    desk.close()
