"""Claims through the real pages, in parallel, on gunicorn with 4 workers (SQLite or PostgreSQL): a quota of 1
wanted by 20 members gives exactly 1 coupon; a quota of 10 wanted by 40 gives exactly 10; one member limited
to 1 who taps 20 times gets 1; ten checkouts racing with one coupon place one order. The database decides
(conditional increments and updates), never a count read first."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa

from tests.support.live import first_pickup_time, shop_session

pytestmark = pytest.mark.live


def _member(base: str, slug: str, name: str) -> requests.Session:
    s = shop_session()
    r = s.post(f"{base}/m/{slug}/signin/demo", data={"nickname": name, "next": f"/m/{slug}/"}, timeout=30)
    assert r.status_code == 200, r.text[:300]
    return s


def _campaign(engine, merchant_id: int, *, quota, per_member) -> int:
    with engine.begin() as c:
        return c.execute(sa.text(
            "INSERT INTO campaigns (merchant_id, name, rules_text, type, value_fen, uses, quota, claimed, per_member,"
            " days_after_claim, all_stores, all_products, online, counter, with_member_price, transferable, status,"
            " created_at, updated_at) VALUES (:m, '抢券', '', 'cash_off', 500, 1, :q, 0, :p, 7, true, true, true,"
            " true, true, false, 'active', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id"),
            {"m": merchant_id, "q": quota, "p": per_member}).scalar()


def _claim_all(base: str, slug: str, campaign_id: int, sessions: list[requests.Session]) -> list[int]:
    barrier = threading.Barrier(len(sessions))

    def claim(s):
        barrier.wait()
        return s.post(f"{base}/m/{slug}/coupons/{campaign_id}/claim", allow_redirects=False, timeout=60,
                      headers={"Accept": "application/json"}).status_code

    with ThreadPoolExecutor(max_workers=len(sessions)) as pool:
        return list(pool.map(claim, sessions))


def _counts(engine, campaign_id: int) -> tuple[int, int]:
    with engine.connect() as c:
        claimed = c.execute(sa.text("SELECT claimed FROM campaigns WHERE id = :c"), {"c": campaign_id}).scalar()
        coupons = c.execute(sa.text("SELECT count(*) FROM coupons JOIN vouchers ON vouchers.id = coupons.voucher_id"
                                    " WHERE campaign_id = :c"), {"c": campaign_id}).scalar()
    return claimed, coupons


@pytest.mark.parametrize("quota, members", [(1, 20), (10, 40)])
def test_a_quota_is_never_passed_by_parallel_claims(server, quota, members):
    base, demo, engine = server
    slug = demo["merchant"]["slug"]
    campaign_id = _campaign(engine, demo["merchant"]["id"], quota=quota, per_member=1)
    sessions = [_member(base, slug, f"抢券{quota}-{i}") for i in range(members)]
    statuses = _claim_all(base, slug, campaign_id, sessions)
    assert statuses.count(200) == quota, statuses  # a JSON client gets the coupon (a browser: a redirect)
    assert statuses.count(409) == members - quota, statuses
    assert _counts(engine, campaign_id) == (quota, quota)


def test_one_member_tapping_twenty_times_gets_one(server):
    base, demo, engine = server
    slug = demo["merchant"]["slug"]
    campaign_id = _campaign(engine, demo["merchant"]["id"], quota=None, per_member=1)
    me = _member(base, slug, "连点20次")
    # One person, 20 connections sharing the session cookie.
    sessions = []
    for _ in range(20):
        s = shop_session()
        s.cookies.update(me.cookies)
        sessions.append(s)
    statuses = _claim_all(base, slug, campaign_id, sessions)
    assert statuses.count(200) == 1 and statuses.count(409) == 19, statuses
    assert _counts(engine, campaign_id) == (1, 1)


def test_ten_checkouts_racing_with_one_coupon_place_one_order(server):
    base, demo, engine = server
    slug, store_id = demo["merchant"]["slug"], demo["stores"][0]["id"]
    campaign_id = _campaign(engine, demo["merchant"]["id"], quota=None, per_member=1)
    me = _member(base, slug, "一券多单")
    assert me.post(f"{base}/m/{slug}/coupons/{campaign_id}/claim", allow_redirects=False, timeout=30).status_code == 303
    with engine.begin() as c:
        sku_id = c.execute(sa.text("SELECT min(sku_id) FROM store_stock WHERE store_id = :s AND quantity >= 20"),
                           {"s": store_id}).scalar()
        coupon_id = c.execute(sa.text("SELECT coupons.id FROM coupons JOIN members ON members.id = coupons.member_id"
                                      " WHERE coupons.campaign_id = :c"), {"c": campaign_id}).scalar()
    r = me.post(f"{base}/m/{slug}/cart/add", data={"store_id": store_id, "sku_id": sku_id, "quantity": 1}, timeout=30)
    assert r.status_code == 200, r.text[:300]
    page = me.get(f"{base}/m/{slug}/checkout", timeout=30).text
    assert f'name="coupon" value="{coupon_id}"' in page
    pickup = first_pickup_time(page)
    n = 10
    sessions = []
    for i in range(n):
        s = shop_session()
        s.cookies.update(me.cookies)
        sessions.append(s)
    barrier = threading.Barrier(n)

    def checkout(i):
        barrier.wait()
        return sessions[i].post(f"{base}/m/{slug}/checkout", allow_redirects=False, timeout=60, data={
            "nonce": f"race-{i}", "fulfilment": "pickup", "pickup_at": pickup, "pay": "store",
            "coupon": coupon_id}).status_code

    with ThreadPoolExecutor(max_workers=n) as pool:
        statuses = list(pool.map(checkout, range(n)))
    assert statuses.count(302) == 1 and statuses.count(409) == n - 1, statuses
    with engine.connect() as c:
        used_on = c.execute(sa.text("SELECT order_id FROM coupons WHERE id = :c"), {"c": coupon_id}).scalar()
        adjusted = c.execute(sa.text("SELECT count(DISTINCT order_lines.order_id) FROM order_line_adjustments"
                                     " JOIN order_lines ON order_lines.id = order_line_adjustments.order_line_id"
                                     " WHERE source = :s"), {"s": f"coupon:{coupon_id}"}).scalar()
    assert used_on is not None and adjusted == 1


def _grant(base: str, key: str, campaign_id: int, body: dict) -> int:
    r = requests.post(f"{base}/api/v1/campaigns/{campaign_id}/grants", json=body, timeout=60,
                      headers={"Authorization": f"Bearer {key}"})
    return r.status_code


def test_the_same_grant_request_no_twenty_times_gives_one_coupon(server):
    base, demo, engine = server
    key = demo["merchant"]["api_key"]
    campaign_id = _campaign(engine, demo["merchant"]["id"], quota=5, per_member=1)
    barrier = threading.Barrier(20)

    def grant(_):
        barrier.wait()
        return _grant(base, key, campaign_id, {"member": {"phone": "13900139000"}, "request_no": "same-20"})

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(grant, range(20)))
    assert statuses.count(201) == 1 and statuses.count(200) == 19, statuses
    assert _counts(engine, campaign_id) == (1, 1)


def test_two_hundred_grants_for_a_quota_of_fifty(server):
    base, demo, engine = server
    key = demo["merchant"]["api_key"]
    campaign_id = _campaign(engine, demo["merchant"]["id"], quota=50, per_member=1)
    n = 200
    barrier = threading.Barrier(32)

    def grant(i):
        if i < 32:
            barrier.wait()
        return _grant(base, key, campaign_id, {"member": {"phone": f"137{i:08d}"}, "request_no": f"g-{i}"})

    with ThreadPoolExecutor(max_workers=32) as pool:
        statuses = list(pool.map(grant, range(n)))
    assert statuses.count(201) == 50 and statuses.count(409) == n - 50, sorted(set(statuses))
    assert _counts(engine, campaign_id) == (50, 50)
