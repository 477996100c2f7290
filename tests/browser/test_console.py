"""The merchant console at a desktop's 1366×768 in Chromium: the demo owner signs in, creates a store, moves its
hours past midnight (the shop's store page shows them next), creates a cashier for it, and that cashier signs
in at the counter. On a server and database of its own: the other browser tests share the demo's stores."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, TABLET, sign_in
from tests.browser.test_purchase import (choose_store, counter, expect_voucher_shown, open_product, place_and_pay,
                                         sign_in_when_asked)
from tests.support.databases import fresh_database
from tests.support.live import app_env, gunicorn, prepare

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def own_live(chromium_path):
    with fresh_database("console") as url:
        env = app_env(url)
        demo = prepare(env)
        with gunicorn(env, workers=1) as base:
            yield base, demo


def test_owner_sets_up_a_store_and_its_cashier(desktop, browser, own_live, shot):
    base, demo = own_live
    page = desktop
    page.goto(base + "/console/")
    expect(page).to_have_url(re.compile(r"/console/login"))
    page.get_by_test_id("login-username").fill("owner")
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(base + "/console/")
    expect(page.get_by_test_id("console-staff")).to_contain_text("王老板")
    expect(page.get_by_test_id("dashboard-store-row")).to_have_count(len(demo["stores"]))
    shot(page, "console-home")

    page.get_by_test_id("nav-stores").click()
    expect(page.get_by_test_id("store-row")).to_have_count(len(demo["stores"]))
    page.get_by_test_id("store-new").click()
    for field, value in (("name", "夜猫子店"), ("city", "上海"), ("address", "上海市黄浦区夜猫路 1 号"),
                         ("phone", "021-55550000"), ("latitude", "31.2304"), ("longitude", "121.4737"),
                         ("delivery_radius_m", "0")):
        page.get_by_test_id(f"store-{field}").fill(value)
    page.get_by_test_id("store-save").click()
    expect(page.get_by_test_id("store-name")).to_have_text("夜猫子店")
    store_id = int(re.search(r"/console/stores/(\d+)$", page.url).group(1))

    page.get_by_test_id("store-edit").click()
    page.get_by_test_id("store-opens_at").fill("22:00")
    page.get_by_test_id("store-closes_at").fill("02:00")
    shot(page, "console-store-form")
    page.get_by_test_id("store-save").click()
    expect(page.get_by_test_id("store-hours")).to_contain_text("22:00–02:00")
    expect(page.get_by_test_id("store-hours")).to_contain_text("跨午夜")

    shop = browser.new_page()
    shop.goto(f"{base}/m/{demo['merchant']['slug']}/s/{store_id}")
    expect(shop.locator("body")).to_contain_text("22:00–02:00")
    shop.close()

    page.get_by_test_id("nav-stores").click()
    page.get_by_test_id("list-q").fill("夜猫")
    page.get_by_test_id("list-submit").click()  # htmx swaps the list in place and keeps the URL
    expect(page.get_by_test_id("store-row")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"q=%E5%A4%9C%E7%8C%AB"))

    page.get_by_test_id("nav-staff").click()
    page.get_by_test_id("staff-new").click()
    page.get_by_test_id("staff-name").fill("夜班收银")
    page.get_by_test_id("staff-username").fill("night1")
    page.get_by_test_id("staff-password").fill("night-pass-1")
    page.get_by_test_id("staff-role").select_option("cashier")
    page.get_by_test_id("staff-store").select_option(str(store_id))
    page.get_by_test_id("staff-save").click()
    expect(page.get_by_test_id("staff-detail-name")).to_contain_text("夜班收银")
    shot(page, "console-staff")

    page.get_by_test_id("nav-audit").click()
    expect(page.locator('[data-testid="audit-row"][data-action="staff.create"]')).to_have_count(1)
    expect(page.locator('[data-testid="audit-row"][data-action="store.update"]')).to_have_count(1)

    tablet_context = browser.new_context(**TABLET)
    tablet_context.set_default_timeout(5000)
    tablet = tablet_context.new_page()
    sign_in(tablet, base, "night1", "night-pass-1")
    expect(tablet.get_by_test_id("store-name")).to_have_text("夜猫子店")
    tablet_context.close()


# True when the canvas has been drawn on: some pixel is not transparent.
CANVAS_DRAWN = """id => { const c = document.getElementById(id);
    if (!c || !c.width || !c.height) return false;
    const pixels = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) return true;
    return false; }"""


def test_owner_sees_the_days_numbers_and_both_charts(desktop, phone, own_live, shot):
    base, demo = own_live
    store = demo["stores"][0]
    open_product(phone, base, "拿铁")
    choose_store(phone, store)
    phone.locator("label.pd-sku", has_text="中杯").click()
    phone.get_by_test_id("add").click()
    phone.wait_for_url(re.compile(r"/cart"))
    phone.get_by_test_id("go-checkout").click()
    sign_in_when_asked(phone)
    expect(phone.get_by_test_id("checkout-total")).to_have_text("¥25.00")
    place_and_pay(phone, base)
    status, body = counter(base, store["counter_key"], "redeem", expect_voucher_shown(phone))
    assert status == 200, body

    page = desktop
    page.goto(base + "/console/login")
    page.get_by_test_id("login-username").fill("owner")
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(base + "/console/")
    expect(page.get_by_test_id("today-sales")).to_have_text("25.00")
    for key in ("orders", "pickups", "redemptions"):
        expect(page.get_by_test_id(f"today-{key}")).to_have_text("1")
    row = page.locator(f'[data-testid="dashboard-store-row"][data-store-id="{store["id"]}"]')
    expect(row).to_contain_text(store["name"])
    expect(row).to_contain_text("25.00")
    for chart in ("chart-sales", "chart-stores"):
        expect(page.get_by_test_id(chart)).to_be_visible()
        page.wait_for_function(CANVAS_DRAWN, arg=chart)
        box = page.get_by_test_id(chart).bounding_box()
        assert box["width"] > 100 and box["height"] > 100 and box["x"] + box["width"] <= 1366
    assert page.evaluate("Chart.getChart('chart-sales').data.datasets[0].data.at(-1)") == 25
    shot(page, "console-dashboard")

    row.get_by_role("link", name=store["name"]).click()  # the store's figures lead to the store
    expect(page.get_by_test_id("store-name")).to_have_text(store["name"])
