"""Orders in the merchant console, in Chromium at a desktop's 1366×768: a shopper (phone viewport) buys two
items and pays; the owner creates an operator; the operator finds the order by its number, refunds one line
with a reason, and the shopper's order page shows the partial refund and a new pickup code. On a server and
database of its own."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, console_sign_in
from tests.browser.test_purchase import choose_store, expect_voucher_shown, open_product, place_and_pay, sign_in_when_asked
from tests.support.databases import fresh_database
from tests.support.live import app_env, gunicorn, prepare

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def orders_live(chromium_path):
    with fresh_database("console_orders") as url:
        env = app_env(url)
        demo = prepare(env)
        with gunicorn(env, workers=1) as base:
            yield base, demo


def test_the_operator_refunds_one_line_and_the_shopper_sees_it(desktop, phone, orders_live, shot):
    base, demo = orders_live
    store = demo["stores"][0]
    open_product(phone, base, "拿铁")
    choose_store(phone, store)
    phone.locator("label.pd-sku", has_text="中杯").click()
    phone.get_by_test_id("add").click()
    phone.wait_for_url(re.compile(r"/cart"))
    open_product(phone, base, "黄油可颂")
    choose_store(phone, store)
    phone.get_by_test_id("add").click()
    phone.wait_for_url(re.compile(r"/cart"))
    expect(phone.get_by_test_id("cart-line")).to_have_count(2)
    phone.get_by_test_id("go-checkout").click()
    sign_in_when_asked(phone)
    order_id = place_and_pay(phone, base)
    old_code = expect_voucher_shown(phone)
    number = phone.get_by_test_id("order-number").inner_text().strip()

    page = desktop
    console_sign_in(page, base, "owner", PASSWORD)
    page.get_by_test_id("nav-staff").click()
    page.get_by_test_id("staff-new").click()
    page.get_by_test_id("staff-name").fill("赵运营")
    page.get_by_test_id("staff-username").fill("operator1")
    page.get_by_test_id("staff-password").fill("operator-pass-1")
    page.get_by_test_id("staff-role").select_option("operator")
    page.get_by_test_id("staff-store").select_option("")
    page.get_by_test_id("staff-save").click()
    expect(page.get_by_test_id("staff-detail-name")).to_contain_text("赵运营")
    page.get_by_test_id("logout").click()

    console_sign_in(page, base, "operator1", "operator-pass-1")
    expect(page.get_by_test_id("nav-staff")).to_have_count(0)  # an operator manages no staff
    page.get_by_test_id("nav-orders").click()
    page.get_by_test_id("list-q").fill(number)
    page.get_by_test_id("list-submit").click()  # htmx swaps the list in place
    expect(page.get_by_test_id("order-row")).to_have_count(1)
    page.get_by_test_id("order-link").click()
    page.wait_for_url(re.compile(rf"/console/orders/{order_id}$"))
    expect(page.get_by_test_id("order-line")).to_have_count(2)
    croissant = page.locator('[data-testid="order-line"]', has_text="黄油可颂")
    line_id = croissant.get_attribute("data-line-id")
    page.locator(f"#qty_{line_id}").fill("1")
    page.get_by_test_id("refund-reason").fill("门店可颂售罄")
    shot(page, "console-order-refund")
    form = page.get_by_test_id("refund-lines-form")
    box = form.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 1366
    page.get_by_test_id("refund-lines").click()
    page.wait_for_url(re.compile(rf"/console/orders/{order_id}\?done=refund$"))
    expect(page.get_by_test_id("done")).to_be_visible()
    expect(page.get_by_test_id("order-status")).to_have_text("待取货")
    expect(croissant.get_by_test_id("line-refunded")).to_have_text("1")
    expect(page.get_by_test_id("refund-row")).to_have_attribute("data-status", "succeeded")
    expect(page.get_by_test_id("refund-row")).to_contain_text("门店可颂售罄")
    expect(page.get_by_test_id("order-voucher")).to_have_count(2)

    phone.goto(f"{base}/orders/{order_id}")
    expect(phone.get_by_test_id("order-status")).to_have_text("待取货")
    expect(phone.get_by_test_id("refund-status")).to_have_attribute("data-status", "succeeded")
    expect(phone.locator("body")).to_contain_text("已退 1 件")
    new_code = expect_voucher_shown(phone)
    assert new_code != old_code
    shot(phone, "shop-order-partly-refunded")
