"""A store open past midnight (22:00–02:00), at 01:00 in a phone-sized Chromium (issue #8): the store page
says 营业中, checkout offers 尽快 and 今天 01:30, the order is placed (pay at the store) and handed over at
the counter. The server's clock is frozen at 01:00 Shanghai (tests.support.frozen_wsgi), on a database of
its own with the demo loaded and its first store's hours moved to the night."""
from __future__ import annotations

import re
from datetime import time

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.config import normalise_db_url
from app.merchants.models import Store
from tests.browser.test_purchase import SLUG, choose_store, counter, expect_voucher_shown, open_product, sign_in_when_asked
from tests.support.databases import fresh_database
from tests.support.live import app_env, gunicorn_process, prepare

pytestmark = pytest.mark.browser

ONE_AM = "2026-11-23T01:00:00+08:00"


@pytest.fixture(scope="module")
def night(chromium_path, tmp_path_factory):
    """(base URL, the night store's demo JSON) of gunicorn with its clock frozen at 01:00 Shanghai."""
    with fresh_database("night") as url:
        env = app_env(url, O2O_FROZEN_AT=ONE_AM)
        demo = prepare(env)
        store = demo["stores"][0]
        engine = sa.create_engine(normalise_db_url(url, tmp_path_factory.mktemp("night")))
        with engine.begin() as conn:
            conn.execute(sa.update(Store.__table__).where(Store.__table__.c.id == store["id"])
                         .values(opens_at=time(22), closes_at=time(2)))
        engine.dispose()
        with gunicorn_process(env, workers=1, app="tests.support.frozen_wsgi:app") as (base, _proc):
            yield base, store


def test_order_from_a_store_open_past_midnight_at_one_in_the_night(phone, night, shot):
    base, store = night
    phone.goto(f"{base}/m/{SLUG}/s/{store['id']}")
    expect(phone.locator(".st-open")).to_have_text("营业中")
    expect(phone.locator("body")).to_contain_text("22:00–02:00")

    open_product(phone, base, "拿铁")
    choose_store(phone, store)
    phone.locator("label.pd-sku", has_text="中杯").click()
    phone.get_by_test_id("add").click()
    phone.wait_for_url(re.compile(rf"/m/{SLUG}/cart"))
    phone.get_by_test_id("go-checkout").click()
    sign_in_when_asked(phone)

    expect(phone.get_by_test_id("checkout-store")).to_contain_text(store["name"])
    expect(phone.get_by_test_id("store-closed")).to_have_count(0)
    picker = phone.get_by_test_id("pickup-at")
    expect(picker.locator("option").first).to_have_attribute("value", "asap")
    slot = picker.locator("option[value='2026-11-23T01:30:00+08:00']")
    expect(slot).to_have_text("今天 01:30")
    expect(picker.locator("option[value='2026-11-23T02:00:00+08:00']")).to_have_count(0)  # closing time
    picker.select_option("2026-11-23T01:30:00+08:00")
    phone.locator("label", has=phone.get_by_test_id("pay-store")).click()
    shot(phone, "night-checkout")
    phone.get_by_test_id("place-order").click()

    phone.wait_for_url(re.compile(r"/orders/\d+$"))
    code = expect_voucher_shown(phone)
    expect(phone.locator(".sp-status__sub")).to_contain_text("11月23日 01:30")
    status, body = counter(base, store["counter_key"], "redeem", code)
    assert status == 200, body
