"""Coupons in real Chromium: a consumer (phone) finds a 折扣 campaign from the home page, signs in, claims it,
and finds it under Me → 优惠券 with its code; a cashier (tablet) redeems it on /counter with a bill amount and
sees 优惠 and 应收 before confirming."""
from __future__ import annotations

import re
import uuid

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

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
