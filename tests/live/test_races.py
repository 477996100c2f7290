"""Real parallel HTTP requests to gunicorn with 4 sync workers, on the test engine (SQLite or PostgreSQL).

The database decides: one conditional UPDATE per redeem, a unique index per idempotency key."""
from __future__ import annotations

import http.client
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

import pytest
import sqlalchemy as sa


pytestmark = pytest.mark.live


def call(base: str, path: str, body: dict, key: str) -> tuple[int, dict]:
    u = urlparse(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.request("POST", path, body=json.dumps(body),
                     headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
        r = conn.getresponse()
        return r.status, json.loads(r.read())
    finally:
        conn.close()


def issue(base, demo, **body) -> dict:
    body.setdefault("title", "并发测试券")
    status, answer = call(base, "/api/v1/vouchers", body, demo["merchant"]["api_key"])
    assert status == 201, answer
    return answer


def in_parallel(n: int, fn):
    barrier = threading.Barrier(n)

    def run(i):
        barrier.wait()
        return fn(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def redemptions(engine, voucher_id: int) -> int:
    with engine.connect() as c:
        return c.execute(sa.text("SELECT count(*) FROM redemptions WHERE voucher_id = :v"), {"v": voucher_id}).scalar()


def test_fifty_redeems_of_one_voucher_exactly_one_wins(server):
    base, demo, engine = server
    v = issue(base, demo)
    key = demo["stores"][0]["counter_key"]
    results = in_parallel(50, lambda i: call(base, "/api/v1/counter/redeem", {"code": v["code"]}, key))
    statuses = sorted(s for s, _ in results)
    assert statuses.count(200) == 1
    assert statuses.count(409) == 49
    assert {b["error"]["code"] for s, b in results if s != 200} == {"already_redeemed"}
    assert redemptions(engine, v["id"]) == 1


def test_fifty_redeems_from_three_stores_of_a_three_use_card_exactly_three_win(server):
    base, demo, engine = server
    v = issue(base, demo, uses=3)
    keys = [s["counter_key"] for s in demo["stores"]]
    results = in_parallel(50, lambda i: call(base, "/api/v1/counter/redeem", {"code": v["code"]}, keys[i % 3]))
    wins = [b for s, b in results if s == 200]
    assert len(wins) == 3
    assert sorted(b["voucher"]["uses_left"] for b in wins) == [0, 1, 2]
    assert {b["error"]["code"] for s, b in results if s != 200} == {"already_redeemed"}
    assert redemptions(engine, v["id"]) == 3
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT uses_left, status FROM vouchers WHERE id = :v"), {"v": v["id"]}).one() == (0, "redeemed")


def test_same_idempotency_key_twenty_times_one_redemption_identical_answers(server):
    base, demo, engine = server
    v = issue(base, demo, uses=5)
    key = demo["stores"][0]["counter_key"]
    body = {"code": v["code"], "idempotency_key": "tap-race-1"}
    results = in_parallel(20, lambda i: call(base, "/api/v1/counter/redeem", body, key))
    assert {s for s, _ in results} == {200}
    answers = {json.dumps(b, sort_keys=True) for _, b in results}
    assert len(answers) == 1
    assert json.loads(answers.pop())["voucher"]["uses_left"] == 4
    assert redemptions(engine, v["id"]) == 1


def test_parallel_undo_gives_the_use_back_once(server):
    base, demo, engine = server
    v = issue(base, demo, uses=2)
    key = demo["stores"][0]["counter_key"]
    status, answer = call(base, "/api/v1/counter/redeem", {"code": v["code"]}, key)
    rid = answer["redemption"]["id"]
    results = in_parallel(10, lambda i: call(base, f"/api/v1/counter/redemptions/{rid}/undo", {"reason": "并发撤销"}, key))
    assert {s for s, _ in results} == {200}
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT uses_left FROM vouchers WHERE id = :v"), {"v": v["id"]}).scalar() == 2
        assert c.execute(sa.text("SELECT count(*) FROM voucher_events WHERE voucher_id = :v AND kind = 'undone'"),
                         {"v": v["id"]}).scalar() == 1
