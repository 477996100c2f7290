"""A pre-sale in real Chromium against gunicorn with the demo: a phone finds the demo cake's 预售 on the product
page, reads every rule before paying, signs in, accepts the rules and pays the deposit in the sandbox (the
order reads 待付尾款); the owner opens the balance window from the console's demo button (desktop); the phone
pays the balance, gets its pickup QR, and the counter hands the cake over today."""
from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import console_sign_in, desktop_context
from tests.browser.test_purchase import SLUG, counter, expect_voucher_shown, open_product

pytestmark = pytest.mark.browser


def test_a_presale_from_deposit_through_balance_to_pickup(browser, phone, base, demo, shot):
    open_product(phone, base, "纽约芝士蛋糕")
    card = phone.get_by_test_id("presale-card").first
    expect(card).to_contain_text("定金 ¥20 抵 ¥50，尾款 ¥148")
    card.click()
    phone.wait_for_url(re.compile(rf"/m/{SLUG}/presale/\d+$"))
    rules = phone.get_by_test_id("presale-rules")
    expect(rules).to_contain_text("定金可退")
    expect(phone.get_by_test_id("balance")).to_have_text("¥148.00")
    expect(phone.get_by_test_id("deposit-window")).to_be_visible()
    expect(phone.get_by_test_id("balance-window")).to_be_visible()
    shot(phone, "presale-rules")
    phone.get_by_test_id("signin").click()
    phone.wait_for_url(re.compile(rf"/m/{SLUG}/signin"))
    phone.get_by_test_id("demo-nickname").fill(f"预订{uuid.uuid4().hex[:6]}")
    phone.get_by_test_id("demo-submit").click()
    phone.wait_for_url(re.compile(rf"/m/{SLUG}/presale/\d+$"))
    phone.get_by_test_id("agree").check()
    phone.get_by_test_id("pay-deposit").click()
    phone.wait_for_url(re.compile(r"/pay/sandbox/"))
    phone.get_by_test_id("sandbox-pay").click()
    phone.wait_for_url(re.compile(r"/orders/\d+$"))
    order_url = phone.url
    expect(phone.get_by_test_id("order-status")).to_have_text("待付尾款")
    expect(phone.get_by_test_id("balance-soon")).to_be_visible()
    expect(phone.get_by_test_id("presale-balance")).to_have_text("¥148.00")

    desk = desktop_context(browser)
    console = desk.new_page()
    console_sign_in(console, base, "owner")
    console.goto(base + "/console/presales")
    console.get_by_test_id("presale-row").first.get_by_role("link").click()
    expect(console.get_by_test_id("presale-counts")).to_contain_text("待付尾款 1")
    console.get_by_test_id("demo-open-balance").click()
    expect(console.get_by_test_id("presale-demo")).to_be_visible()
    desk.close()

    phone.goto(order_url)
    expect(phone.get_by_test_id("balance-open")).to_be_visible()
    phone.get_by_test_id("pay-balance").click()
    phone.wait_for_url(re.compile(r"/pay/sandbox/"))
    phone.get_by_test_id("sandbox-pay").click()
    phone.wait_for_url(re.compile(r"/orders/\d+$"))
    code = expect_voucher_shown(phone)
    shot(phone, "presale-pickup")
    status, body = counter(base, demo["stores"][0]["counter_key"], "redeem", code)
    assert status == 200, body
    phone.reload()
    expect(phone.get_by_test_id("order-status")).to_have_text("已取货")
