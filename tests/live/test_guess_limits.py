"""Wrong-code limits on gunicorn with 4 sync workers, on the test engine (SQLite or PostgreSQL): without
Redis (counted in the database), with Redis, and with Redis stopped or unreachable (counted in the
database meanwhile; verify and redeem go on; /healthz says degraded).

The documented limit is 10 wrong codes a minute per device (GUESS_LIMITS). Ten go out at once, so the
workers share them; the eleventh and later ones are refused, even for a valid code. Codes with a wrong
check character count like codes that are not found. Each scenario has a database of its own, and each
burst its own client IP (PROXY_COUNT=1, X-Forwarded-For), so only the device limit can refuse.
"""
from __future__ import annotations

import http.client
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode, urlparse

import pytest

from app.vouchers import codes
from tests.support import redis_server as private_redis
from tests.support.databases import fresh_database
from tests.support.live import app_env, free_port, gunicorn, prepare

pytestmark = pytest.mark.live

DEVICE_LIMIT = 10  # GUESS_LIMITS' default: 10/minute;60/hour


CSRF = "guess" + "0" * 27


def request(base: str, method: str, path: str, *, ip: str, body: dict | None = None, form: dict | None = None,
            key: str | None = None, cookie: str | None = None) -> tuple[int, dict, http.client.HTTPResponse]:
    u = urlparse(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    # The CSRF pair of a browser that loaded the counter page (app.web.csrf); the API ignores it.
    headers = {"X-Forwarded-For": ip, "Accept": "application/json", "X-CSRFToken": CSRF}
    payload = None
    if body is not None:
        payload, headers["Content-Type"] = json.dumps(body), "application/json"
    if form is not None:
        payload, headers["Content-Type"] = urlencode(form), "application/x-www-form-urlencoded"
    if key:
        headers["Authorization"] = f"Bearer {key}"
    headers["Cookie"] = f"csrf={CSRF}" + (f"; {cookie}" if cookie else "")
    try:
        conn.request(method, path, body=payload, headers=headers)
        r = conn.getresponse()
        raw = r.read()
        try:
            data = json.loads(raw)
        except ValueError:
            data = {}
        return r.status, data, r
    finally:
        conn.close()


def in_parallel(n: int, fn):
    barrier = threading.Barrier(n)

    def run(i):
        barrier.wait()
        return fn(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


def wrong_code(i: int) -> str:
    """Half are well-formed codes nobody holds (not_found), half have a wrong check character (forged)."""
    code = codes.generate()
    if i % 2:
        code = code[:-1] + next(c for c in codes.ALPHABET if c != code[-1])
    return codes.pretty(code)


def fresh_window(needed: float = 10.0) -> None:
    """The database counts in clock-aligned minutes: start a burst with `needed` seconds left in one."""
    left = 60 - time.time() % 60
    if left < needed:
        time.sleep(left + 0.2)


class Counter:
    """A counter device: the API with a store's counter key, or the cashier's page signed in."""

    def __init__(self, base: str, *, key: str | None = None, cookie: str | None = None, ip: str):
        self.base, self.key, self.cookie, self.ip = base, key, cookie, ip
        self.prefix = "/api/v1/counter" if key else "/counter"

    @classmethod
    def page(cls, base: str, username: str, ip: str) -> "Counter":
        status, _data, r = request(base, "POST", "/counter/login", ip=ip,
                                   form={"username": username, "password": "demo1234"})
        assert status == 302, status
        cookie = r.getheader("Set-Cookie").split(";", 1)[0]
        return cls(base, cookie=cookie, ip=ip)

    def post(self, action: str, body: dict) -> tuple[int, dict]:
        status, data, _r = request(self.base, "POST", f"{self.prefix}/{action}", ip=self.ip, body=body,
                                   key=self.key, cookie=self.cookie)
        return status, data


def issue(base: str, demo: dict, **body) -> dict:
    body.setdefault("title", "限流测试券")
    status, data, _r = request(base, "POST", "/api/v1/vouchers", ip="10.9.9.9", body=body,
                               key=demo["merchant"]["api_key"])
    assert status == 201, data
    return data


def assert_limit_holds(counter: Counter, valid_code: str) -> None:
    """Ten wrong codes at once spread over the workers and are answered normally; the next ones are refused."""
    fresh_window()
    answers = in_parallel(DEVICE_LIMIT, lambda i: counter.post("verify", {"code": wrong_code(i)}))
    assert sorted({s for s, _ in answers}) == [400, 404], answers
    assert {b["error"]["code"] for _, b in answers} == {"forged", "not_found"}
    for action in ("verify", "redeem", "verify"):
        status, body = counter.post(action, {"code": valid_code})
        assert status == 429, (action, status, body)
        assert body["error"]["code"] == "too_many_tries" and body["error"]["scope"] == "device"


def healthz(base: str) -> tuple[int, dict]:
    status, body, _r = request(base, "GET", "/healthz", ip="10.9.9.9")
    return status, body


@pytest.fixture
def demo_db():
    """A fresh database with the demo, and the environment to serve it (client IPs from X-Forwarded-For)."""
    with fresh_database("limits") as url:
        env = app_env(url, PROXY_COUNT="1")
        yield env, prepare(env)


def test_without_redis_the_device_limit_holds_across_four_workers(demo_db):
    env, demo = demo_db
    with gunicorn(env, workers=4, timeout=90) as base:
        v = issue(base, demo)
        assert_limit_holds(Counter(base, key=demo["stores"][0]["counter_key"], ip="10.0.0.1"), v["code"])
        # The cashier's page (a signed-in device) is held to the same limit.
        assert_limit_holds(Counter.page(base, "cashier2", ip="10.0.0.2"), v["code"])
        # Another store's device is not affected.
        status, _ = Counter(base, key=demo["stores"][2]["counter_key"], ip="10.0.0.3").post("verify", {"code": v["code"]})
        assert status == 200
        assert healthz(base) == (200, {"status": "ok", "database": "ok"})


@pytest.mark.skipif(not private_redis.available(), reason="redis-server is not installed")
def test_with_redis_the_limit_holds_and_survives_redis_stopping(demo_db):
    env, demo = demo_db
    with private_redis.redis_server() as redis, gunicorn(dict(env, REDIS_URL=redis.url), workers=4, timeout=90) as base:
        v = issue(base, demo, uses=2)
        assert_limit_holds(Counter(base, key=demo["stores"][0]["counter_key"], ip="10.0.1.1"), v["code"])
        assert healthz(base) == (200, {"status": "ok", "database": "ok", "redis": "ok"})

        redis.stop()
        # Nothing a redeem decides lives in Redis: the counter goes on.
        store_b = Counter(base, key=demo["stores"][1]["counter_key"], ip="10.0.1.2")
        status, body = store_b.post("verify", {"code": v["code"]})
        assert status == 200 and body["redeemable"] is True, body
        status, body = store_b.post("redeem", {"code": v["code"], "idempotency_key": "redis-down-1"})
        assert status == 200 and body["voucher"]["uses_left"] == 1, body
        assert healthz(base) == (200, {"status": "degraded", "database": "ok", "redis": "unreachable"})
        # ... and wrong codes are counted in the database meanwhile, for every worker.
        assert_limit_holds(Counter(base, key=demo["stores"][2]["counter_key"], ip="10.0.1.3"), v["code"])
        assert_limit_holds(Counter.page(base, "cashier2", ip="10.0.1.4"), v["code"])


def test_unreachable_redis_never_makes_the_counter_fail(demo_db):
    env, demo = demo_db
    nowhere = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    with gunicorn(dict(env, REDIS_URL=nowhere), workers=4, timeout=90) as base:
        v = issue(base, demo)
        counter = Counter(base, key=demo["stores"][1]["counter_key"], ip="10.0.2.1")
        t0 = time.monotonic()
        assert counter.post("verify", {"code": v["code"]})[0] == 200
        status, body = counter.post("redeem", {"code": v["code"]})
        assert status == 200 and body["voucher"]["status"] == "redeemed", body
        assert time.monotonic() - t0 < 5  # no waiting for Redis
        assert_limit_holds(Counter(base, key=demo["stores"][0]["counter_key"], ip="10.0.2.2"), v["code"])
        assert healthz(base) == (200, {"status": "degraded", "database": "ok", "redis": "unreachable"})
