"""20 friends press 参与拼团 for a team's last seat at once, through the real pages on gunicorn with 4 workers:
exactly one seat is added; when it is paid the team completes once, with one pickup voucher per member."""
from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa

from tests.support.live import add_groupbuy_campaign, shop_session

pytestmark = pytest.mark.live

FRIENDS = 20


def _member(base: str, slug: str, name: str) -> requests.Session:
    s = shop_session()
    r = s.post(f"{base}/m/{slug}/signin/demo", data={"nickname": name, "next": f"/m/{slug}/"}, timeout=30)
    assert r.status_code == 200, r.text[:300]
    return s


def _pay(s: requests.Session, base: str, pay_path: str) -> int:
    r = s.get(base + pay_path, allow_redirects=False, timeout=30)
    assert r.status_code in (302, 303) and "/pay/sandbox/" in r.headers["Location"], r.text[:300]
    r = s.post(r.headers["Location"] if r.headers["Location"].startswith("http") else base + r.headers["Location"],
               data={"result": "success"}, allow_redirects=False, timeout=30)
    assert r.status_code in (302, 303), r.text[:300]
    return int(re.search(r"/orders/(\d+)", pay_path).group(1))


def test_twenty_joins_for_the_last_seat(server):
    base, demo, engine = server
    slug, store_id = demo["merchant"]["slug"], demo["stores"][0]["id"]
    with engine.begin() as c:
        sku_id = c.execute(sa.text("SELECT min(id) FROM skus")).scalar()
        c.execute(sa.text("UPDATE store_stock SET quantity = 100 WHERE sku_id = :k"), {"k": sku_id})
        campaign_id = add_groupbuy_campaign(c, demo["merchant"]["id"], sku_id, store_id, title="并发 3 人团",
                                           price_fen=1000, size=3, hours=24, stock=100, limit=1)

    leader = _member(base, slug, "团长")
    r = leader.post(f"{base}/m/{slug}/g/{campaign_id}/open", data={"store_id": store_id}, allow_redirects=False,
                    timeout=30)
    assert r.status_code == 303, r.text[:300]
    paid = [_pay(leader, base, r.headers["Location"].replace(base, ""))]
    with engine.connect() as c:
        team_id = c.execute(sa.text("SELECT id FROM groupbuy_teams WHERE campaign_id = :c"), {"c": campaign_id}).scalar()
    second = _member(base, slug, "二号")
    r = second.post(f"{base}/m/{slug}/t/{team_id}/join", allow_redirects=False, timeout=30)
    assert r.status_code == 303, r.text[:300]
    paid.append(_pay(second, base, r.headers["Location"].replace(base, "")))

    friends = [_member(base, slug, f"好友{i}") for i in range(FRIENDS)]
    barrier = threading.Barrier(FRIENDS)

    def join(i):
        barrier.wait()
        return friends[i].post(f"{base}/m/{slug}/t/{team_id}/join", allow_redirects=False, timeout=60,
                               headers={"Accept": "application/json"})

    with ThreadPoolExecutor(max_workers=FRIENDS) as pool:
        answers = list(pool.map(join, range(FRIENDS)))
    won = [(i, a) for i, a in enumerate(answers) if a.status_code == 303]
    refused = [a for a in answers if a.status_code == 409]
    assert len(won) == 1, [a.status_code for a in answers]
    assert len(refused) == FRIENDS - 1 and {a.json()["error"]["code"] for a in refused} == {"team_full"}
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT seats_taken FROM groupbuy_teams WHERE id = :t"), {"t": team_id}).scalar() == 3
        assert c.execute(sa.text("SELECT count(*) FROM groupbuy_seats WHERE team_id = :t"), {"t": team_id}).scalar() == 3

    i, answer = won[0]
    paid.append(_pay(friends[i], base, answer.headers["Location"].replace(base, "")))
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT status FROM groupbuy_teams WHERE id = :t"), {"t": team_id}).scalar() == "complete"
        ids = {"ids": tuple(paid)}
        q = sa.text("SELECT count(*) FROM order_events WHERE kind = 'grouped' AND order_id IN :ids").bindparams(
            sa.bindparam("ids", expanding=True))
        assert c.execute(q, ids).scalar() == 3  # the team completed once: each order made ready once
        q = sa.text("SELECT count(*) FROM order_vouchers WHERE order_id IN :ids").bindparams(
            sa.bindparam("ids", expanding=True))
        assert c.execute(q, ids).scalar() == 3  # as many vouchers as members
        q = sa.text("SELECT count(DISTINCT status) FROM orders WHERE id IN :ids AND status = 'ready'").bindparams(
            sa.bindparam("ids", expanding=True))
        assert c.execute(q, ids).scalar() == 1
    page = friends[i].get(f"{base}/orders/{paid[-1]}", timeout=30).text
    assert 'data-team-status="complete"' in page and 'data-testid="voucher-qr"' in page


def test_one_member_opening_ten_teams_at_once_keeps_to_the_limit(server):
    """Per member limit 1: one member (one session, ten connections) opening teams at once gets one seat; the
    others are refused with groupbuy_member_limit (app.members.service.one_at_a_time serialises the count)."""
    base, demo, engine = server
    slug, store_id = demo["merchant"]["slug"], demo["stores"][0]["id"]
    with engine.begin() as c:
        sku_id = c.execute(sa.text("SELECT min(id) FROM skus")).scalar()
        campaign_id = add_groupbuy_campaign(c, demo["merchant"]["id"], sku_id, store_id, title="限一次",
                                           price_fen=1000, size=2, hours=24, stock=100, limit=1)
    me = _member(base, slug, "连点开团")
    taps = 10
    barrier = threading.Barrier(taps)

    def tap(_):
        barrier.wait()
        return me.post(f"{base}/m/{slug}/g/{campaign_id}/open", data={"store_id": store_id}, allow_redirects=False,
                       timeout=60, headers={"Accept": "application/json"})

    with ThreadPoolExecutor(max_workers=taps) as pool:
        answers = list(pool.map(tap, range(taps)))
    assert [a.status_code for a in answers].count(303) == 1, [a.status_code for a in answers]
    assert {a.json()["error"]["code"] for a in answers if a.status_code != 303} == {"groupbuy_member_limit"}
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM groupbuy_seats s JOIN groupbuy_teams t ON t.id = s.team_id "
                                 "WHERE t.campaign_id = :c"), {"c": campaign_id}).scalar() == 1
