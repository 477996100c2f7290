"""Shared fixtures: the app on the test database (SQLite by default, PostgreSQL with TEST_DATABASE_URL),
a session that rolls back after each test, clients signed in as each role, and a frozen clock."""
from __future__ import annotations

import os

# Jobs run inline, right after the commit that queued them (Huey's immediate mode); set before app.jobs loads.
os.environ.setdefault("HUEY_IMMEDIATE", "1")

from datetime import datetime, timezone
from pathlib import Path

import flask
import pytest
from sqlalchemy.orm import scoped_session, sessionmaker

from app import create_app
from app.core import clock, shared_values
from app.extensions import allowance, db as _db
from tests.support.databases import base_url, fresh_database
from tests.support.csrf import CsrfClient
from tests.support.proxy import tcp_proxy  # noqa: F401  (a fixture: cut and restore real TCP connections)

# Test clients carry the shop's CSRF cookie and header, as a browser that loaded the form would
# (tests/web/test_csrf.py checks the refusals with a client that does not).
flask.Flask.test_client_class = CsrfClient

FROZEN_AT = datetime(2026, 11, 23, 6, 0, tzinfo=timezone.utc)  # 14:00 in Shanghai


@pytest.fixture(scope="session")
def _database_url(tmp_path_factory):
    """SQLite in a temp folder, or a new PostgreSQL database of this run's own on TEST_DATABASE_URL's server
    (dropped afterwards), so two runs on one machine never share tables."""
    if base_url() is None:
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.sqlite3'}"
        return
    with fresh_database("suite") as url:
        yield url


@pytest.fixture(scope="session")
def app(tmp_path_factory, _database_url):
    instance = tmp_path_factory.mktemp("instance")
    url = _database_url
    app = create_app({"TESTING": True, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "SQLALCHEMY_DATABASE_URI": _normal(url, instance),
                      "APP_BASE_URL": "http://shop.test", "SECRET_KEY": "test-secret",
                      # One process's memory: this session's rolled-back outer transaction holds SQLite's write
                      # lock, which the database counters' own connection would wait for. The database
                      # storage is tested on a database of its own (tests/test_rate_counters.py).
                      "RATELIMIT_STORAGE_URI": "memory://"},
                     instance_path=instance)
    with app.app_context():
        _db.drop_all()
        _db.create_all()
    yield app
    with app.app_context():
        _db.drop_all()
        _db.engine.dispose()


def _normal(url: str, instance: Path) -> str:
    from app.config import normalise_db_url

    return normalise_db_url(url, instance)


@pytest.fixture
def db(app):
    """A session bound to one connection whose outer transaction is rolled back after the test;
    the code under test may commit (that releases a SAVEPOINT)."""
    with app.app_context():
        connection = _db.engine.connect()
        if connection.dialect.name == "sqlite":
            # pysqlite's own transaction handling breaks SAVEPOINTs; take it over (SQLAlchemy recipe).
            connection.connection.driver_connection.isolation_level = None
            outer = connection.begin()
            connection.exec_driver_sql("BEGIN")
        else:
            outer = connection.begin()
        session = scoped_session(sessionmaker(bind=connection, join_transaction_mode="create_savepoint"))
        original = _db.session
        _db.session = session
        try:
            yield _db
        finally:
            session.remove()
            _db.session = original
            outer.rollback()
            if connection.dialect.name == "sqlite":
                connection.connection.driver_connection.isolation_level = ""
            connection.close()
            allowance.reset()
            shared_values.reset()  # written on connections of their own, committed: not rolled back above


@pytest.fixture
def frozen():
    clock.freeze(FROZEN_AT)
    yield FROZEN_AT
    clock.freeze(None)


@pytest.fixture
def client(app, db):
    return app.test_client()


@pytest.fixture
def world(db):
    """A merchant with two stores, staff of every role, a second merchant, and their keys."""
    from tests.support.factories import make_world

    made = make_world()
    # Commit (inside the outer test transaction) so that a request's rollback keeps the world.
    db.session.commit()
    return made


def _signed_in(app, staff):
    c = app.test_client()
    with c.session_transaction() as s:
        s["staff_id"] = staff.id
        s["staff_pw"] = staff.password_hash[-12:]
        s["device"] = f"test-device-{staff.id}"
        s.permanent = True
    return c


def member_client(app, member):
    """A test client signed in to the shop as `member`."""
    c = app.test_client()
    with c.session_transaction() as s:
        s["members"] = {str(member.merchant_id): member.id}
    return c


@pytest.fixture
def cashier_client(app, world):
    return _signed_in(app, world.cashier)


@pytest.fixture
def manager_client(app, world):
    return _signed_in(app, world.manager)


@pytest.fixture
def owner_client(app, world):
    return _signed_in(app, world.owner)


@pytest.fixture
def other_cashier_client(app, world):
    return _signed_in(app, world.cashier_b)
