"""The counter while the database is briefly unavailable, through the real path: the server answers the
redeem with a real 503 and the page retries the same request with the same idempotency key until it goes
through. The cashier taps once; the voucher is redeemed once.

PostgreSQL: the server reaches the database through a TCP proxy (tests/support/proxy.py) that the test cuts.
SQLite: the test holds the database's write lock past the server's busy_timeout ("database is locked")."""
from __future__ import annotations

import contextlib
import json
import sqlite3
import time
import urllib.request

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.support.databases import fresh_database
from tests.support.live import app_env, gunicorn, prepare
from tests.support.proxy import TcpProxy

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def outage_server(chromium_path):
    """(base URL, demo JSON, database URL, outage) where `outage()` is a context manager during which the
    server's database does not answer."""
    with fresh_database("browser-outage") as url:
        demo = prepare(app_env(url))
        if url.startswith("sqlite"):
            path = url[len("sqlite:///"):]

            @contextlib.contextmanager
            def outage():
                lock = sqlite3.connect(path, isolation_level=None)
                lock.execute("BEGIN IMMEDIATE")  # writers wait for busy_timeout (5 s), then 'database is locked'
                try:
                    yield
                finally:
                    lock.execute("ROLLBACK")
                    lock.close()

            with gunicorn(app_env(url), workers=2) as base:
                yield base, demo, url, outage
            return
        with TcpProxy.for_url(url) as proxy:
            @contextlib.contextmanager
            def outage():
                proxy.cut()
                try:
                    yield
                finally:
                    proxy.restore()

            with gunicorn(app_env(proxy.url_for(url)), workers=2) as base:
                yield base, demo, url, outage


def _issue(base: str, demo: dict, title: str) -> dict:
    body = json.dumps({"title": title, "uses": 1}).encode()
    req = urllib.request.Request(base + "/api/v1/vouchers", data=body, method="POST", headers={
        "Authorization": f"Bearer {demo['merchant']['api_key']}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def test_a_503_is_retried_with_the_same_key_until_the_redeem_goes_through(tablet, outage_server):
    base, demo, url, outage = outage_server
    voucher = _issue(base, demo, "断线重试券")
    sign_in(tablet, base)
    tablet.get_by_test_id("code-input").fill(voucher["code"])
    tablet.get_by_test_id("lookup").click()
    expect(tablet.get_by_test_id("result")).to_have_attribute("data-state", "ok")

    answers: list[tuple[str, int]] = []
    tablet.on("response", lambda r: answers.append((r.request.post_data_json["idempotency_key"], r.status))
              if r.url.endswith("/counter/redeem") else None)

    with outage():
        tablet.get_by_test_id("confirm").click()  # the only tap
        retrying = tablet.get_by_test_id("retrying")
        expect(retrying).to_be_visible(timeout=15000)
        expect(retrying).to_have_text("服务暂时不可用，正在重试…")
        expect(tablet.get_by_test_id("confirm")).to_be_disabled()
        time.sleep(1.5)  # a retry or two while the database is still away
    expect(tablet.get_by_test_id("success")).to_be_visible(timeout=20000)
    expect(tablet.get_by_test_id("success")).to_have_attribute("data-state", "done")
    expect(tablet.get_by_test_id("retrying")).to_be_hidden()

    statuses = [s for _, s in answers]
    assert statuses[0] == 503 and statuses[-1] == 200 and set(statuses) == {503, 200}, answers
    assert len({k for k, _ in answers}) == 1, "every retry must carry the first attempt's idempotency key"
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as c:
            n = c.execute(sa.text("SELECT count(*) FROM redemptions WHERE voucher_id = :v"), {"v": voucher["id"]}).scalar()
    finally:
        engine.dispose()
    assert n == 1
    row = tablet.locator(f'[data-testid="today-row"][data-voucher-id="{voucher["id"]}"]')
    expect(row).to_have_count(1)


def test_after_half_a_minute_of_503s_the_cashier_gets_a_retry_button(tablet, outage_server):
    """The page's side of a longer outage, on a fast clock: the 503s (the server's envelope, answered here by
    the browser's network layer so that no database has to stay down for half a minute) are retried after 1,
    2, 4, 8, 8 and 8 s with one key; then the page says so and offers 重试, which sends that key again."""
    base, demo, url, _ = outage_server
    voucher = _issue(base, demo, "久断重试券")
    tablet.clock.install()
    sign_in(tablet, base)
    tablet.get_by_test_id("code-input").fill(voucher["code"])
    tablet.get_by_test_id("lookup").click()
    expect(tablet.get_by_test_id("result")).to_have_attribute("data-state", "ok")

    keys: list[str] = []

    def unavailable(route):
        keys.append(route.request.post_data_json["idempotency_key"])
        route.fulfill(status=503, headers={"Retry-After": "3"}, json={"error": {
            "code": "service_unavailable", "message": "服务暂时不可用，请稍后重试。"}})

    tablet.route("**/counter/redeem", unavailable)
    confirm, retrying = tablet.get_by_test_id("confirm"), tablet.get_by_test_id("retrying")
    # Stop the page's clock (installed, it still runs at the real pace): on a busy machine the real time
    # between two steps below would otherwise count towards the retry delays.
    tablet.clock.pause_at(tablet.evaluate("Date.now()") + 1000)
    confirm.click()
    for attempt, delay in enumerate([1, 2, 4, 8, 8, 8], start=1):
        expect(retrying).to_have_attribute("data-attempt", str(attempt))
        expect(retrying).to_have_attribute("data-state", "retrying")
        expect(confirm).to_be_disabled()
        tablet.clock.fast_forward(delay * 1000 - 100)
        assert len(keys) == attempt  # not before its time
        tablet.clock.fast_forward(100)
    expect(retrying).to_have_attribute("data-state", "gave-up")
    expect(retrying).to_have_text("服务暂时不可用，请稍后点击重试。")
    expect(confirm).to_be_enabled()
    expect(confirm).to_have_text("重试")
    assert len(keys) == 7 and len(set(keys)) == 1

    tablet.unroute("**/counter/redeem")
    sent: list[str] = []
    tablet.on("request", lambda r: sent.append(r.post_data_json["idempotency_key"])
              if r.url.endswith("/counter/redeem") else None)
    confirm.click()  # the database is back
    expect(tablet.get_by_test_id("success")).to_be_visible()
    expect(tablet.get_by_test_id("success")).to_have_attribute("data-state", "done")
    expect(retrying).to_be_hidden()
    assert sent == keys[:1]
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as c:
            assert c.execute(sa.text("SELECT count(*) FROM redemptions WHERE voucher_id = :v"),
                             {"v": voucher["id"]}).scalar() == 1
    finally:
        engine.dispose()
