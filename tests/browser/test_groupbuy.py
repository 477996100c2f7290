"""Flow 3 in real Chromium, phone-sized, against gunicorn with the demo: a leader opens a team of 3 from the
product page and pays in the sandbox; two friends, each in a browser context of their own, open the share
link, sign in, join and pay; all three see 拼团成功 and a pickup QR, and the counter redeems one."""
from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE
from tests.browser.test_purchase import SLUG, counter, open_product

pytestmark = pytest.mark.browser


def _sign_in(page) -> None:
    page.wait_for_url(re.compile(rf"/m/{SLUG}/signin"))
    page.get_by_test_id("demo-nickname").fill(f"团员{uuid.uuid4().hex[:6]}")
    page.get_by_test_id("demo-submit").click()


def _pay_in_sandbox(page) -> int:
    page.wait_for_url(re.compile(r"/pay/sandbox/"))
    page.get_by_test_id("sandbox-pay").click()
    page.wait_for_url(re.compile(r"/orders/\d+$"))
    return int(re.search(r"/orders/(\d+)$", page.url).group(1))


def test_a_team_of_three_opened_joined_paid_and_picked_up(browser, phone, base, demo, shot):
    open_product(phone, base, "黄油可颂")
    phone.get_by_test_id("groupbuy-button").filter(has_text="3 人团").click()
    phone.wait_for_url(re.compile(rf"/m/{SLUG}/g/\d+$"))
    expect(phone.get_by_test_id("group-price")).to_contain_text("¥12")
    phone.get_by_test_id("signin-to-open").click()
    _sign_in(phone)
    phone.wait_for_url(re.compile(rf"/m/{SLUG}/g/\d+$"))
    store = demo["stores"][0]
    phone.select_option("[data-testid=pickup-store]", value=str(store["id"]))
    phone.get_by_test_id("open-team").click()
    lead_order = _pay_in_sandbox(phone)
    expect(phone.get_by_test_id("order-status")).to_have_text("待成团")
    expect(phone.get_by_test_id("voucher-qr")).to_have_count(0)
    phone.get_by_test_id("order-team").click()
    phone.wait_for_url(re.compile(rf"/m/{SLUG}/t/\d+$"))
    expect(phone.get_by_test_id("team-status")).to_have_text("拼团中")
    expect(phone.get_by_test_id("empty-seat")).to_have_count(2)
    expect(phone.get_by_test_id("countdown")).to_have_text(re.compile(r"^0:5\d:\d\d$"))  # one hour, ticking
    shot(phone, "groupbuy-team-forming")
    share = phone.get_by_test_id("share-link").inner_text().strip()
    share_path = re.search(r"/m/.+$", share).group(0)

    friends = []
    for _ in range(2):
        context = browser.new_context(**PHONE)
        context.set_default_timeout(5000)
        page = context.new_page()
        page.goto(base + share_path)
        expect(page.get_by_test_id("seats")).to_be_visible()  # anyone may look before signing in
        page.get_by_test_id("signin-to-join").click()
        _sign_in(page)
        page.wait_for_url(re.compile(rf"{re.escape(share_path)}$"))
        page.get_by_test_id("join").click()
        friends.append((context, page, _pay_in_sandbox(page)))

    codes = []
    for page, order_id in [(phone, lead_order)] + [(p, o) for _, p, o in friends]:
        page.goto(f"{base}/orders/{order_id}")
        expect(page.get_by_test_id("order-status")).to_have_text("待取货")
        expect(page.get_by_test_id("order-team")).to_have_attribute("data-team-status", "complete")
        expect(page.get_by_test_id("voucher-qr")).to_be_visible()
        codes.append(page.get_by_test_id("voucher-code").inner_text().strip())
        page.goto(base + share_path)
        expect(page.get_by_test_id("team-status")).to_have_text("拼团成功")
    shot(phone, "groupbuy-team-complete")
    phone.goto(f"{base}/orders/{lead_order}")
    shot(phone, "groupbuy-order-ready")
    assert len(set(codes)) == 3  # each member their own voucher

    status, body = counter(base, store["counter_key"], "redeem", codes[1])
    assert status == 200 and body["voucher"]["status"] == "redeemed", body
    _, friend_page, friend_order = friends[0]
    friend_page.goto(f"{base}/orders/{friend_order}")
    expect(friend_page.get_by_test_id("order-status")).to_have_text("已取货")
    for context, _, _ in friends:
        context.close()
