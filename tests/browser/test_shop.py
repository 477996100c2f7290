"""Consumer pages in a phone-sized Chromium: the home page, the holder's voucher page, the scanned page,
binding a phone number."""
from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_home_shows_demo_stores_and_products(phone, base, demo, shot):
    from app.demo import PRODUCTS

    phone.goto(base + "/")
    expect(phone.locator("#stores .store")).to_have_count(3)
    for store in demo["stores"]:
        expect(phone.locator("#stores")).to_contain_text(store["name"])
    expect(phone.locator("#products .product")).to_have_count(len(PRODUCTS))
    expect(phone.locator("#products")).to_contain_text("拿铁")
    shot(phone, "home")


def test_holder_page_shows_qr_and_grouped_code_and_refreshes_the_qr(phone, base, demo, shot):
    entry = next(v for v in demo["vouchers"] if v["title"] == "可颂兑换券")
    phone.goto(base + urlsplit(entry["holder_url"]).path)

    expect(phone.get_by_test_id("voucher-title")).to_have_text("可颂兑换券")
    expect(phone.get_by_test_id("short-code")).to_have_text(entry["code"])
    assert len(entry["code"]) == 14 and entry["code"][4] == "-" == entry["code"][9]
    expect(phone.get_by_test_id("voucher-status")).to_have_text("可使用")
    expect(phone.get_by_test_id("stores")).to_contain_text("人民广场店")

    qr = phone.get_by_test_id("qr")
    expect(qr).to_be_visible()
    first = qr.get_attribute("src")
    assert "/qr.svg" in first
    assert qr.get_attribute("data-rotating") == "1"  # demo vouchers rotate; the script sets a timer
    phone.wait_for_function("document.querySelector('[data-testid=qr]').naturalWidth > 0")
    shot(phone, "holder")

    fresh = phone.evaluate("window.__refreshQr()")
    assert fresh != first and "/qr.svg?t=" in fresh
    expect(qr).to_have_attribute("src", fresh)
    phone.wait_for_function("(() => { const i = document.querySelector('[data-testid=qr]');"
                            " return i.complete && i.naturalWidth > 0; })()")
    # The QR fits a phone screen.
    box = qr.bounding_box()
    assert box["width"] >= 200 and box["x"] >= 0 and box["x"] + box["width"] <= 390


def test_scanned_page_says_what_it_is_without_the_code(phone, base, issue):
    voucher = issue("美式咖啡兑换券", handover="中杯美式 1 杯")
    phone.goto(base + "/v/" + voucher["token"])
    expect(phone.get_by_test_id("scanned-title")).to_have_text("美式咖啡兑换券")
    expect(phone.get_by_test_id("scanned-tip")).to_have_text("请向店员出示，由店员扫码核销")
    html = phone.content()
    raw = voucher["code"].replace("-", "")
    assert voucher["code"] not in html and raw not in html
    assert voucher["token"] not in phone.locator("body").inner_html()


def test_scanned_page_with_an_altered_token_says_so(phone, base, issue):
    voucher = issue("篡改测试券")
    token = voucher["token"][:-2] + ("AA" if not voucher["token"].endswith("AA") else "BB")
    phone.goto(base + "/v/" + token)
    expect(phone.get_by_test_id("scanned-error")).to_contain_text("券码无效")


def test_holder_page_of_a_redeemed_voucher_says_used_and_stops_rotating(phone, base, demo, issue, shot):
    import json
    import urllib.request

    voucher = issue("松饼兑换券", handover="蓝莓玛芬 1 个")
    req = urllib.request.Request(
        base + "/api/v1/counter/redeem", method="POST",
        data=json.dumps({"code": voucher["code"], "idempotency_key": f"shop-test-{voucher['id']}"}).encode(),
        headers={"Authorization": f"Bearer {demo['stores'][0]['counter_key']}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 200

    phone.goto(base + urlsplit(voucher["holder_url"]).path)
    expect(phone.get_by_test_id("voucher")).to_have_attribute("data-status", "redeemed")
    expect(phone.get_by_test_id("voucher-status")).to_have_text("已使用")
    expect(phone.get_by_test_id("fact-uses")).to_have_text("0 / 1")
    assert phone.get_by_test_id("qr").get_attribute("data-rotating") == "0"
    shot(phone, "holder-redeemed")


def test_a_member_binds_a_phone_number_with_the_demo_code(phone, base, shot):
    slug = "demo-coffee"
    phone.goto(f"{base}/m/{slug}/me")  # signed out: the sign-in page, then back to me
    phone.get_by_test_id("demo-nickname").fill(f"绑定{uuid.uuid4().hex[:6]}")
    phone.get_by_test_id("demo-submit").click()
    phone.wait_for_url(re.compile(rf"/m/{slug}/me"))
    expect(phone.get_by_test_id("phone-link")).to_contain_text("绑定手机号")
    phone.get_by_test_id("phone-link").click()
    phone.get_by_test_id("phone").fill("139 0000 1234")
    phone.get_by_test_id("send-code").click()
    expect(phone.get_by_test_id("code-sent")).to_contain_text("139****1234")
    assert urlsplit(phone.url).path == f"/m/{slug}/me/phone"  # the code step is a GET (Post/Redirect/Get)
    code = re.search(r"\d{6}", phone.get_by_test_id("demo-code").inner_text()).group(0)
    phone.reload()  # no "resubmit the form?" and no second text: the same code is shown
    expect(phone.get_by_test_id("demo-code")).to_contain_text(code)
    phone.get_by_test_id("code").fill("000000" if code != "000000" else "111111")
    phone.get_by_test_id("bind").click()
    expect(phone.get_by_test_id("phone-error")).to_contain_text("验证码不正确")
    expect(phone.get_by_test_id("demo-code")).to_contain_text(code)  # still there after a wrong code
    phone.get_by_test_id("code").fill(code)
    shot(phone, "phone-code")
    phone.get_by_test_id("bind").click()
    phone.wait_for_url(re.compile(rf"/m/{slug}/me$"))
    expect(phone.get_by_test_id("phone-link")).to_contain_text("139****1234")
