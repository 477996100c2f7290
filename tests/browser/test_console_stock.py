"""Stock in the merchant console, in Chromium at 1366×768: the owner filters the stock table, edits a figure
in place (htmx, CSRF header from the page), and the shop at a phone viewport shows the new figure at that
store; a store manager sees only their store. On a server and database of its own."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import console_sign_in, desktop_context
from tests.support.databases import fresh_database
from tests.support.live import app_env, gunicorn, prepare

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def own_live(chromium_path):
    with fresh_database("stock") as url:
        env = app_env(url)
        demo = prepare(env)
        with gunicorn(env, workers=2) as base:
            yield base, demo


def _sign_in(browser, base, username):
    context = desktop_context(browser)
    page = context.new_page()
    console_sign_in(page, base, username)
    return context, page


def test_owner_edits_stock_in_place_and_the_shop_shows_it(browser, phone, own_live, shot):
    base, demo = own_live
    first, second = demo["stores"][0], demo["stores"][1]
    context, page = _sign_in(browser, base, "owner")
    page.get_by_test_id("nav-stock").click()
    page.get_by_test_id("filter-store").select_option(str(second["id"]))
    page.get_by_test_id("list-q").fill("拿铁")
    page.get_by_test_id("list-submit").click()
    rows = page.get_by_test_id("stock-row")
    expect(rows.first).to_have_attribute("data-store-id", str(second["id"]))
    row = rows.first
    product_id = row.get_attribute("data-product-id")
    cell = row.get_by_test_id("stock-cell")
    cell.get_by_test_id("stock-input").fill("3")
    cell.get_by_test_id("stock-save").click()
    saved = row.get_by_test_id("stock-cell")
    expect(saved.get_by_test_id("stock-saved")).to_be_visible()
    expect(saved).to_have_attribute("data-quantity", "3")
    expect(saved).to_contain_text("→ 3")
    shot(page, "console-stock")
    page.reload()
    expect(page.get_by_test_id("stock-row").first.get_by_test_id("stock-cell")).to_have_attribute("data-quantity", "3")
    context.close()

    phone.goto(f"{base}/m/{demo['merchant']['slug']}/p/{product_id}?store={second['id']}")
    expect(phone.get_by_test_id("stock").first).to_contain_text("仅剩 3 件")

    context, page = _sign_in(browser, base, "manager1")
    page.get_by_test_id("nav-stock").click()
    expect(page.get_by_test_id("filter-store").locator("option")).to_have_count(1)
    expect(page.get_by_test_id("filter-store")).to_contain_text(first["name"])
    for store_id in page.get_by_test_id("stock-row").evaluate_all("rows => rows.map(r => r.dataset.storeId)"):
        assert store_id == str(first["id"])
    context.close()
