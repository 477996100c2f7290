"""Products in the merchant console, in Chromium at a desktop's 1366×768: the demo owner signs in, creates a
product with a cover photo and a SKU (price in yuan), adds a second SKU, gives the first stock at two stores in
the stock table, and the shop at a phone viewport shows that stock per store,
the product, its photo (decoded by the browser, at the shop's 480×480) and its price. A store manager sees the
product read-only. On a server, database and media folder of its own."""
from __future__ import annotations

import io
import re
import tempfile

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import console_sign_in, desktop_context
from tests.support.databases import fresh_database
from tests.support.live import app_env, gunicorn, prepare

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def own_live(chromium_path):
    with fresh_database("products") as url, tempfile.TemporaryDirectory(prefix="o2o-media-") as media:
        env = app_env(url, MEDIA_ROOT=media)
        demo = prepare(env)
        with gunicorn(env, workers=2) as base:
            yield base, demo


def test_owner_creates_a_product_with_a_photo_and_the_shop_shows_it(desktop, browser, phone, own_live, tmp_path,
                                                                    shot):
    base, demo = own_live
    photo = tmp_path / "osmanthus.jpg"
    Image.new("RGB", (1000, 750), (230, 160, 40)).save(photo, "JPEG")
    page = desktop
    console_sign_in(page, base, "owner")
    page.get_by_test_id("nav-products").click()
    expect(page.get_by_test_id("product-row")).to_have_count(14)  # the demo's
    page.get_by_test_id("product-new").click()
    page.get_by_test_id("product-name").fill("桂花拿铁")
    page.get_by_test_id("product-category").select_option(label="咖啡")
    page.get_by_test_id("product-description").fill("秋季限定，桂花糖浆")
    page.get_by_test_id("product-featured").check()
    page.get_by_test_id("product-photo").set_input_files(str(photo))
    page.get_by_test_id("sku-name").fill("中杯")
    page.get_by_test_id("sku-code").fill("OSM-M")
    page.get_by_test_id("sku-price").fill("29.9")
    page.get_by_test_id("sku-member-price").fill("27")
    shot(page, "console-product-new")
    page.get_by_test_id("product-save").click()
    expect(page.get_by_test_id("product-title")).to_have_text("桂花拿铁")
    product_id = int(re.search(r"/console/products/(\d+)$", page.url).group(1))
    expect(page.get_by_test_id("product-status")).to_have_text("已上架")
    cover = page.get_by_test_id("product-cover")
    expect(cover).to_have_attribute("src", re.compile(r"^/media/products/"))
    assert cover.evaluate("img => img.complete && img.naturalWidth") == 480

    # A second SKU, refused first (member price above the price), then right.
    page.get_by_test_id("sku-new-name").fill("大杯")
    page.get_by_test_id("sku-new-code").fill("OSM-L")
    page.get_by_test_id("sku-new-price").fill("33")
    page.get_by_test_id("sku-new-member-price").fill("34")
    page.get_by_test_id("sku-add").click()
    expect(page.get_by_test_id("form-error")).to_contain_text("会员价不能高于售价")
    page.get_by_test_id("sku-new-name").fill("大杯")
    page.get_by_test_id("sku-new-code").fill("OSM-L")
    page.get_by_test_id("sku-new-price").fill("33")
    page.get_by_test_id("sku-new-member-price").fill("31")
    page.get_by_test_id("sku-add").click()
    expect(page.get_by_test_id("sku-row")).to_have_count(2)
    shot(page, "console-product")

    # Stock of the new 中杯 at two stores, typed in the stock table.
    first, second = demo["stores"][0], demo["stores"][1]
    for store, quantity in ((first, "12"), (second, "2")):
        page.get_by_test_id("nav-stock").click()
        page.get_by_test_id("filter-store").select_option(str(store["id"]))
        page.get_by_test_id("list-q").fill("OSM-M")
        page.get_by_test_id("list-submit").click()
        row = page.get_by_test_id("stock-row").first
        expect(row).to_have_attribute("data-product-id", str(product_id))
        row.get_by_test_id("stock-cell").get_by_test_id("stock-input").fill(quantity)
        row.get_by_test_id("stock-cell").get_by_test_id("stock-save").click()
        expect(row.get_by_test_id("stock-cell")).to_have_attribute("data-quantity", quantity)

    phone.goto(f"{base}/m/{demo['merchant']['slug']}/p/{product_id}?store={second['id']}")
    expect(phone.get_by_test_id("stock").first).to_contain_text("仅剩 2 件")
    phone.goto(f"{base}/m/{demo['merchant']['slug']}/p/{product_id}?store={first['id']}")
    expect(phone.get_by_test_id("stock").first).not_to_contain_text("售罄")

    phone.goto(f"{base}/m/{demo['merchant']['slug']}/p/{product_id}")
    expect(phone.locator("body")).to_contain_text("桂花拿铁")
    expect(phone.locator("body")).to_contain_text("秋季限定")
    expect(phone.get_by_test_id("price")).to_contain_text("29.9")
    expect(phone.locator("body")).to_contain_text("大杯")
    gallery = phone.locator("img.pd-photo").first
    expect(gallery).to_have_attribute("src", re.compile(r"^/media/products/"))
    gallery.scroll_into_view_if_needed()
    phone.wait_for_function("img => img.complete && img.naturalWidth === 480", arg=gallery.element_handle())
    phone.goto(f"{base}/m/{demo['merchant']['slug']}/")
    card = phone.locator(".product").filter(has=phone.locator("p.name", has_text="桂花拿铁"))
    expect(card.first).to_be_visible()  # featured: on the home page's featured shelf (and in the list)
    expect(card.first.locator("img")).to_have_attribute("src", re.compile(r"^/media/products/"))
    shot(phone, "shop-new-product")

    manager = desktop_context(browser)
    mpage = manager.new_page()
    console_sign_in(mpage, base, "manager1")
    mpage.goto(f"{base}/console/products/{product_id}")
    expect(mpage.get_by_test_id("read-only")).to_be_visible()
    expect(mpage.get_by_test_id("product-form")).to_have_count(0)
    expect(mpage.get_by_test_id("sku-table")).to_contain_text("OSM-L")
    manager.close()
