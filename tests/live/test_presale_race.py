"""20 shoppers pay a pre-sale's deposit for its last 5 units at once, through the real pages on gunicorn with 4
workers: exactly 5 deposit orders are placed, the campaign's stock ends at 0 (never below), the other 15 are
refused in words; each of the 5 pays its deposit and waits for the balance. One member tapping 支付定金 ten
times at once on a limit of 1 places one order."""
from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
import requests
import sqlalchemy as sa

from tests.support.live import shop_session

pytestmark = pytest.mark.live

SHOPPERS = 20
UNITS = 5


def _member(base: str, slug: str, name: str) -> requests.Session:
    s = shop_session()
    r = s.post(f"{base}/m/{slug}/signin/demo", data={"nickname": name, "next": f"/m/{slug}/"}, timeout=30)
    assert r.status_code == 200, r.text[:300]
    return s


def _campaign(engine, demo, units: int, title: str) -> int:
    store_id = demo["stores"][0]["id"]
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    with engine.begin() as c:
        sku_id = c.execute(sa.text("SELECT min(id) FROM skus")).scalar()
        campaign_id = c.execute(sa.text(
            "INSERT INTO presale_campaigns (merchant_id, sku_id, store_id, title, full_price_fen, deposit_fen,"
            " deposit_value_fen, deposit_starts_at, deposit_ends_at, balance_starts_at, balance_ends_at, pickup_from,"
            " stock_total, stock_left, per_member_limit, missed_balance, coupons_on_balance, rules, status, created_at)"
            " VALUES (:m, :k, :st, :t, 30000, 5000, 10000, :s, :e, :e, :be, :be, :n, :n, 1, 'refund', false,"
            " '', 'active', :s) RETURNING id"),
            {"m": demo["merchant"]["id"], "k": sku_id, "st": store_id, "s": now - timedelta(hours=1),
             "e": now + timedelta(days=1), "be": now + timedelta(days=2), "n": units, "t": title}).scalar()
    return campaign_id


def test_twenty_deposits_for_the_last_five_units(server):
    base, demo, engine = server
    slug = demo["merchant"]["slug"]
    campaign_id = _campaign(engine, demo, UNITS, "并发预售")
    shoppers = [_member(base, slug, f"预订{i}") for i in range(SHOPPERS)]
    barrier = threading.Barrier(SHOPPERS)

    def deposit(i):
        barrier.wait()
        return shoppers[i].post(f"{base}/m/{slug}/presale/{campaign_id}", data={"quantity": "1", "agree": "1"},
                                allow_redirects=False, timeout=60, headers={"Accept": "application/json"})

    with ThreadPoolExecutor(max_workers=SHOPPERS) as pool:
        answers = list(pool.map(deposit, range(SHOPPERS)))
    placed = [(i, a) for i, a in enumerate(answers) if a.status_code == 303]
    refused = [a for a in answers if a.status_code == 409]
    assert len(placed) == UNITS, [a.status_code for a in answers]
    assert len(refused) == SHOPPERS - UNITS
    assert all("预售名额已售完" in a.json()["error"]["message"] for a in refused)
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT stock_left FROM presale_campaigns WHERE id = :c"), {"c": campaign_id}).scalar() == 0
        assert c.execute(sa.text("SELECT count(*) FROM presale_orders WHERE campaign_id = :c"),
                         {"c": campaign_id}).scalar() == UNITS

    for i, answer in placed:  # each winner pays the deposit in the sandbox: it waits for the balance
        pay = answer.headers["Location"]
        r = shoppers[i].get(pay if pay.startswith("http") else base + pay, allow_redirects=False, timeout=30)
        assert r.status_code in (302, 303) and "/pay/sandbox/" in r.headers["Location"], r.text[:300]
        sandbox = r.headers["Location"]
        r = shoppers[i].post(sandbox if sandbox.startswith("http") else base + sandbox, data={"result": "success"},
                             allow_redirects=False, timeout=30)
        assert r.status_code in (302, 303)
        order_id = int(re.search(r"/orders/(\d+)", pay).group(1))
        with engine.connect() as c:
            assert c.execute(sa.text("SELECT status FROM orders WHERE id = :o"), {"o": order_id}).scalar() == "deposit_paid"


def test_one_member_tapping_ten_times_on_a_limit_of_one_places_one_order(server):
    base, demo, engine = server
    slug = demo["merchant"]["slug"]
    campaign_id = _campaign(engine, demo, 100, "连点预售")
    member = _member(base, slug, "连点")
    taps = 10
    barrier = threading.Barrier(taps)

    def tap(_):
        barrier.wait()
        return member.post(f"{base}/m/{slug}/presale/{campaign_id}", data={"quantity": "1", "agree": "1"},
                           allow_redirects=False, timeout=60, headers={"Accept": "application/json"})

    with ThreadPoolExecutor(max_workers=taps) as pool:
        answers = list(pool.map(tap, range(taps)))
    assert sorted(a.status_code for a in answers) == [303] + [409] * (taps - 1), [a.status_code for a in answers]
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM presale_orders WHERE campaign_id = :c"),
                         {"c": campaign_id}).scalar() == 1
        assert c.execute(sa.text("SELECT stock_left FROM presale_campaigns WHERE id = :c"),
                         {"c": campaign_id}).scalar() == 99
