"""Tries counted in the database (no REDIS_URL, or Redis down), on the test engine (SQLite or PostgreSQL).

These tests run an app of their own on a database of their own that commits for real: the counters write
on a connection of their own, which the suite's rolled-back session would hold back (SQLite's write lock).
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from app import create_app
from app.config import normalise_db_url
from app.core.rate_counters import RateCounter, window
from app.core.clock import now_utc
from app.extensions import allowance, db
from app.members import phone as phones
from app.members.models import Member
from app.members.service import demo_member
from app.merchants.models import Merchant
from app.vouchers import codes
from app.vouchers.guard import GuessScope, ensure_allowed, record_failed_guess
from tests.support import redis_server as private_redis
from tests.support.databases import fresh_database
from tests.support.factories import make_world
from tests.support.live import free_port
from tests.vouchers.helpers import issue, redeem, verify

SETTINGS = {"TESTING": True, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "APP_BASE_URL": "http://shop.test",
            "SECRET_KEY": "test-secret"}


@dataclass
class Keys:
    merchant_key: str
    counter_key: str
    counter_key_b: str
    store_id: int


@pytest.fixture(scope="module")
def database_url():
    with fresh_database("counters") as url:
        yield url


def _app(url, instance, storage):
    return create_app(dict(SETTINGS, SQLALCHEMY_DATABASE_URI=normalise_db_url(url, instance),
                           RATELIMIT_STORAGE_URI=storage), instance_path=instance)


@pytest.fixture(scope="module")
def counted(database_url, tmp_path_factory):
    """An app counting in the database, with a merchant, two stores and their keys (committed)."""
    app = _app(database_url, tmp_path_factory.mktemp("counted"), "database")
    with app.app_context():
        db.create_all()
        world = make_world()
        db.session.commit()
        keys = Keys(world.merchant_key, world.counter_key, world.counter_key_b, world.store.id)
    yield app, keys
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app_keys(counted):
    app, keys = counted
    with app.app_context():
        allowance.reset()
        yield app, keys
        db.session.rollback()
        allowance.reset()


@pytest.fixture
def limits(app_keys):
    app, _keys = app_keys
    saved = {k: app.config[k] for k in ("GUESS_LIMITS", "GUESS_LIMITS_STORE", "GUESS_LIMITS_IP")}

    def set_limits(**kw):
        app.config.update(kw)

    yield set_limits
    app.config.update(saved)


def stored() -> dict[str, int]:
    """key -> hits, read on a connection of its own (what every other worker sees)."""
    with db.engine.connect() as conn:
        return dict(conn.execute(sa.select(RateCounter.key, RateCounter.hits)).all())


# ---------------------------------------------------------------- the storage


def test_windows_are_aligned_to_the_clock():
    assert window("guess/device:a", 60, 1_000_000_059.9) == ("guess/device:a/60", 1_000_000_020, 60)
    assert window("guess/device:a", 3600, 1_000_000_059.9) == ("guess/device:a/3600", 999_997_200, 3600)


def test_long_keys_fit_the_column_and_stay_apart():
    a, b = window("ip:" + "a" * 300, 60, 0)[0], window("ip:" + "a" * 299 + "b", 60, 0)[0]
    assert len(a) == len(b) == 200 and a != b


def test_adding_counts_each_window_once_per_try_and_returns_the_counts(app_keys):
    counters = allowance.counters().database
    now = time.time()
    w1, w2 = window("k", 60, now), window("k", 3600, now)
    k1, k2 = w1[:2], w2[:2]
    assert counters.add([w1, w2]) == {k1: 1, k2: 1}
    assert counters.add([w1, w2, w1]) == {k1: 3, k2: 2}
    assert counters.counts([w1, w2, window("k", 60, now + 60)]) == {k1: 3, k2: 2}


def test_parallel_tries_are_all_counted(app_keys):
    """The upsert is atomic: 4 threads x 15 tries on the same rows count 60 (a read-then-write would lose some)."""
    app, _keys = app_keys
    counters = allowance.counters().database
    windows = [window(key, 3600, time.time()) for key in ("device", "store", "ip")]
    errors = []

    def run():
        try:
            with app.app_context():
                for _ in range(15):
                    counters.add(windows)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert counters.counts(windows) == {w[:2]: 60 for w in windows}


def test_ended_windows_are_deleted_by_a_later_try(app_keys, monkeypatch):
    counters = allowance.counters().database
    monkeypatch.setattr(counters, "_swept_at", float("-inf"))
    monkeypatch.setattr(counters, "clock", lambda: 1_000.0)
    counters.add([window("old", 60, 1_000.0)])
    monkeypatch.setattr(counters, "clock", lambda: 1_000.0 + 61)
    counters.add([window("new", 60, 1_061.0)])  # the sweep runs: the first window ended at 1,020
    assert stored() == {"new/60": 1}
    counters.add([window("old", 60, 1_061.0)])
    assert counters.delete_expired() == 0


# ---------------------------------------------------------------- allowances


def test_a_limit_holds_within_its_window_and_resets_with_the_next(app_keys, monkeypatch):
    counters = allowance.counters().database
    now = [1_800_000_000.0]
    monkeypatch.setattr(counters, "clock", lambda: now[0])
    for _ in range(3):
        assert allowance.exhausted("3/minute", "t", "a") is None
        allowance.hit("3/minute", "t", "a")
    item, reset_at = allowance.exhausted("3/minute", "t", "a")
    assert str(item) == "3 per 1 minute" and reset_at.timestamp() == 1_800_000_000 + 60 - 1_800_000_000 % 60
    assert allowance.exhausted("3/minute", "t", "b") is None  # another key
    now[0] = reset_at.timestamp()
    assert allowance.exhausted("3/minute", "t", "a") is None


def test_a_failed_try_stays_counted_when_its_transaction_rolls_back(app_keys):
    """A refused lookup rolls its request back; its try was committed on a connection of its own."""
    _app, keys = app_keys
    scope = GuessScope(device="key:1", store_id=keys.store_id, ip="10.0.0.1")
    db.session.execute(sa.text("UPDATE merchants SET name = name"))  # the request has written something
    record_failed_guess(scope)
    db.session.rollback()
    counts = stored()
    assert counts["guess/device:key:1/60"] == 1 and counts["guess/ip:10.0.0.1/3600"] == 1
    assert len(counts) == 6  # device, store and IP, per minute and per hour


def test_is_this_device_locked_is_one_query_and_a_found_code_writes_nothing(app_keys, limits):
    app, keys = app_keys
    v = issue(app.test_client(), keys)
    statements = []

    def log(conn, cursor, statement, params, context, executemany):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", log)
    try:
        ensure_allowed(GuessScope(device="key:1", store_id=keys.store_id, ip="10.0.0.1"))
        counter_reads = [s for s in statements if "rate_counters" in s]
        assert len(counter_reads) == 1 and counter_reads[0].lstrip().upper().startswith("SELECT")
        statements.clear()
        assert verify(app.test_client(), keys.counter_key, v["code"]).status_code == 200
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", log)
    assert not [s for s in statements if "rate_counters" in s and not s.lstrip().upper().startswith("SELECT")]
    assert stored() == {}


def test_wrong_codes_over_http_hit_the_limit_though_every_refusal_rolled_back(app_keys, limits):
    """Each 404/400 is rolled back by the error handler; the tries survive, the fourth is refused."""
    app, keys = app_keys
    limits(GUESS_LIMITS="3/minute", GUESS_LIMITS_STORE="100/minute", GUESS_LIMITS_IP="100/minute")
    client = app.test_client()
    v = issue(client, keys)
    bad_check = v["code"][:-1] + ("2" if v["code"][-1] != "2" else "3")
    assert verify(client, keys.counter_key, codes.generate()).status_code == 404
    assert verify(client, keys.counter_key, bad_check).json["error"]["code"] == "forged"  # a typo counts too
    assert redeem(client, keys.counter_key, codes.generate()).status_code == 404
    r = verify(client, keys.counter_key, v["code"])
    assert r.status_code == 429 and r.json["error"]["scope"] == "device"
    assert verify(client, keys.counter_key_b, v["code"]).status_code == 200  # another store's device


def test_store_limit_is_reported_with_its_scope(app_keys, limits):
    app, keys = app_keys
    limits(GUESS_LIMITS="100/minute", GUESS_LIMITS_STORE="2/minute", GUESS_LIMITS_IP="100/minute")
    client = app.test_client()
    for _ in range(2):
        assert verify(client, keys.counter_key, codes.generate()).status_code == 404
    r = verify(client, keys.counter_key, codes.generate())
    assert r.status_code == 429 and r.json["error"]["scope"] == "store"


# ---------------------------------------------------------------- Redis down


@pytest.fixture
def redis_down(database_url, tmp_path_factory, counted):
    """An app whose REDIS_URL points where nothing listens, on the same database as `counted`."""
    app = _app(database_url, tmp_path_factory.mktemp("redis-down"), f"redis://127.0.0.1:{free_port()}/0")
    with app.app_context():
        allowance.counters().database.reset()
        yield app
        db.session.rollback()
        allowance.counters().database.reset()
        db.engine.dispose()


def test_redis_down_counts_in_the_database_and_warns_once(redis_down, caplog, monkeypatch):
    app = redis_down
    logger = logging.getLogger("o2o")
    logger.addHandler(caplog.handler)
    try:
        for _ in range(3):
            assert allowance.exhausted("3/minute", "t", "a") is None
            allowance.hit("3/minute", "t", "a")
        assert allowance.exhausted("3/minute", "t", "a") is not None
        # Back-off over: Redis is asked again (and fails again), but the warning is not repeated within the minute.
        counters = allowance.counters()
        monkeypatch.setattr(counters, "_redis_retry_at", 0.0)
        assert allowance.exhausted("3/minute", "t", "a") is not None
        assert counters._redis_retry_at > 0
    finally:
        logger.removeHandler(caplog.handler)
    warned = [r for r in caplog.records if r.getMessage().startswith("redis unreachable")]
    assert len(warned) == 1 and warned[0].levelno == logging.WARNING
    assert stored()["t/a/60"] == 3


def test_redis_down_does_not_make_a_request_wait_for_it(redis_down, monkeypatch):
    counters = allowance.counters()
    t0 = time.monotonic()
    for _ in range(20):
        monkeypatch.setattr(counters, "_redis_retry_at", 0.0)
        allowance.exhausted("3/minute", "t", "a")
    assert time.monotonic() - t0 < 5  # a refused connection fails at once, without redis-py's 10 retries


def test_healthz_is_200_and_degraded_while_redis_is_down(redis_down):
    r = redis_down.test_client().get("/healthz")
    assert r.status_code == 200
    assert r.json == {"status": "degraded", "database": "ok", "redis": "unreachable"}


def test_verify_and_redeem_answer_while_redis_is_down_and_the_limit_holds(redis_down, counted):
    _app, keys = counted
    app = redis_down
    app.config.update(GUESS_LIMITS="3/minute")
    client = app.test_client()
    v = issue(client, keys)
    assert verify(client, keys.counter_key, v["code"]).status_code == 200
    for _ in range(3):
        assert verify(client, keys.counter_key, codes.generate()).status_code == 404
    assert verify(client, keys.counter_key, codes.generate()).status_code == 429
    assert redeem(client, keys.counter_key_b, v["code"]).status_code == 200


# ---------------------------------------------------------------- texts per phone number


def test_a_try_racing_another_for_the_last_one_learns_it_when_counting(app_keys):
    assert allowance.exhausted("1/minute", "sms", "13800138000") is None  # both racers read this ...
    assert allowance.hit("1/minute", "sms", "13800138000") is None  # ... the first counts the last one left
    assert allowance.hit("1/minute", "sms", "13800138000") is not None  # the second went past it


def test_parallel_requests_for_a_text_send_one(app_keys):
    """Four workers asking for a text to one number at the same moment: one code, three TextsTooSoon."""

    app, _keys = app_keys
    merchant_id = db.session.execute(sa.select(Merchant.id).order_by(Merchant.id)).scalars().first()
    member_ids = []
    for i in range(4):
        member_ids.append(demo_member(merchant_id, f"并发{i}").id)
    db.session.commit()
    barrier = threading.Barrier(4)
    outcomes = []

    def run(member_id):
        with app.app_context():
            member = db.session.get(Member, member_id)
            barrier.wait()
            try:
                phones.request_code(member, "13900139000", secret="s", limits="1/minute;5/hour", now=now_utc())
                db.session.commit()
                outcomes.append("sent")
            except phones.TextsTooSoon:
                db.session.rollback()
                outcomes.append("too soon")

    threads = [threading.Thread(target=run, args=(m,)) for m in member_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["sent", "too soon", "too soon", "too soon"]


@pytest.mark.skipif(not private_redis.available(), reason="redis-server is not installed")
def test_redis_is_asked_again_after_the_back_off(database_url, tmp_path_factory, counted, caplog, monkeypatch):
    """Up: counted in Redis. Stopped: in the database. Back (same port): in Redis again, once the back-off ends."""
    logger = logging.getLogger("o2o")
    logger.addHandler(caplog.handler)
    with private_redis.redis_server() as redis:
        app = _app(database_url, tmp_path_factory.mktemp("redis-back"), redis.url)
        try:
            with app.app_context():
                counters = allowance.counters()
                counters.database.reset()
                allowance.hit("5/minute", "t", "r")
                assert allowance.redis_reachable() is True and stored() == {}
                redis.stop()
                allowance.hit("5/minute", "t", "r")
                assert stored() == {"t/r/60": 1}
                assert allowance.redis_reachable() is False
                with private_redis.redis_server(port=redis.port):
                    allowance.hit("5/minute", "t", "r")  # still backing off: the database
                    assert stored() == {"t/r/60": 2}
                    monkeypatch.setattr(counters, "_redis_retry_at", 0.0)
                    assert allowance.exhausted("1/minute", "t", "r") is None  # the new Redis is empty
                    allowance.hit("5/minute", "t", "r")
                    assert stored() == {"t/r/60": 2}
                    assert allowance.redis_reachable() is True
                counters.database.reset()
                db.engine.dispose()
        finally:
            logger.removeHandler(caplog.handler)
    messages = [r.getMessage() for r in caplog.records if r.getMessage().startswith("redis")]
    assert messages == ["redis unreachable: counting tries in the database",
                        "redis reachable again: counting tries in redis"]
