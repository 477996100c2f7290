"""API keys kept per worker for API_KEY_CACHE_SECONDS: fewer reads, a bounded revocation delay, and
`last_used_at` kept to the minute.

Two apps on one database of their own stand for two gunicorn workers: each has its own cache."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import create_app
from app.config import normalise_db_url
from app.core import clock
from app.extensions import db
from app.merchants.models import ApiKey, KeyKind, Merchant, Store
from app.merchants.service import create_api_key, revoke_api_key
from tests.support.databases import fresh_database
from tests.support.factories import make_world
from tests.vouchers.helpers import bearer, issue

TTL = 0.5
SETTINGS = {"TESTING": True, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "APP_BASE_URL": "http://shop.test",
            "SECRET_KEY": "test-secret", "RATELIMIT_STORAGE_URI": "memory://", "API_KEY_CACHE_SECONDS": TTL}


@pytest.fixture(scope="module")
def workers(tmp_path_factory):
    with fresh_database("keycache") as url:
        apps = [create_app(dict(SETTINGS, SQLALCHEMY_DATABASE_URI=normalise_db_url(url, tmp)), instance_path=tmp)
                for tmp in (tmp_path_factory.mktemp("a"), tmp_path_factory.mktemp("b"))]
        with apps[0].app_context():
            db.create_all()
            world = make_world()
            db.session.commit()
            keys = (world.merchant_key, world.counter_key, world.merchant.id)
        yield apps, keys
        for app in apps:
            with app.app_context():
                db.engine.dispose()


class _World:
    def __init__(self, merchant_key):
        self.merchant_key = merchant_key


def _key_reads(app):
    """Counts the SELECTs of api_keys this app's engine runs."""
    seen = []

    def before(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT") and "FROM api_keys" in statement:
            seen.append(statement)

    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", before)
    return seen


def _verify(app, key, code):
    return app.test_client().post("/api/v1/counter/verify", json={"code": code}, headers=bearer(key))


def test_a_worker_reads_a_key_once_per_period(workers):
    (a, _), (merchant_key, counter_key, _) = workers
    with a.app_context():
        code = issue(a.test_client(), _World(merchant_key))["code"]
    reads = _key_reads(a)
    time.sleep(TTL)
    for _ in range(5):
        assert _verify(a, counter_key, code).status_code == 200
    assert len(reads) == 1, reads


def test_revoked_key_refused_at_once_here_and_within_the_period_elsewhere(workers):
    (a, b), (merchant_key, _, merchant_id) = workers
    with a.app_context():
        code = issue(a.test_client(), _World(merchant_key))["code"]
        store = db.session.execute(sa.select(Store).where(Store.merchant_id == merchant_id)).scalars().first()
        row, key = create_api_key(db.session.get(Merchant, merchant_id), kind=KeyKind.COUNTER, name="tablet",
                                  store=store)
        db.session.commit()
        key_id = row.id
    assert _verify(a, key, code).status_code == 200
    assert _verify(b, key, code).status_code == 200  # b now holds the key for TTL seconds

    with a.app_context():
        revoke_api_key(db.session.get(Merchant, merchant_id), key_id)
        db.session.commit()
    assert _verify(a, key, code).status_code == 401  # the worker that revoked it: at once
    # Another worker may still accept it until its copy is TTL old, never longer.
    started = time.monotonic()
    while _verify(b, key, code).status_code == 200:
        assert time.monotonic() - started < TTL + 0.2, "a revoked key outlived the cache period"
        time.sleep(0.05)
    assert _verify(b, key, code).status_code == 401


def test_last_used_is_kept_to_the_minute(workers):
    (a, b), (merchant_key, counter_key, merchant_id) = workers
    prefix = counter_key.split("_")[1]

    def last_used():
        with a.app_context():
            return db.session.execute(sa.select(ApiKey.last_used_at).where(ApiKey.prefix == prefix)).scalar_one()

    with a.app_context():
        code = issue(a.test_client(), _World(merchant_key))["code"]
    start = clock.now_utc()
    try:
        clock.freeze(start + timedelta(minutes=5))
        time.sleep(TTL)
        assert _verify(a, counter_key, code).status_code == 200
        first = last_used()
        assert first is not None and abs((first - (start + timedelta(minutes=5))).total_seconds()) < 1
        clock.freeze(start + timedelta(minutes=5, seconds=30))
        time.sleep(TTL)
        assert _verify(b, counter_key, code).status_code == 200
        assert last_used() == first  # within the minute: no write
        clock.freeze(start + timedelta(minutes=6, seconds=30))
        time.sleep(TTL)
        assert _verify(b, counter_key, code).status_code == 200
        assert last_used() > first
    finally:
        clock.freeze(None)
