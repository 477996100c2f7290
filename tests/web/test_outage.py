"""A database that does not answer is a clean 503 (`service_unavailable`, Retry-After, a sentence in the
envelope or a page), never a 500; nothing half-done stays; the worker serves again as soon as the database
answers. The PostgreSQL cases break real connections with a TCP proxy (tests/support/proxy.py)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app import create_app
from app.extensions import db
from tests.support.databases import base_url, fresh_database
from tests.support.proxy import TcpProxy
from tests.vouchers.helpers import bearer
from tests.web.test_openapi import check_response

UNREACHABLE = "postgresql+psycopg://nobody@127.0.0.1:1/none"  # nothing listens on port 1: refused at once


@pytest.fixture
def down_app(tmp_path):
    return create_app({"SQLALCHEMY_DATABASE_URI": UNREACHABLE, "SECRET_KEY": "x", "TESTING": True},
                      instance_path=tmp_path)


def test_api_answers_503_envelope_with_retry_after(down_app):
    r = down_app.test_client().post("/api/v1/counter/redeem", json={"code": "K7QD-9XWF-3M2P"},
                                    headers=bearer("o2o_ck_whatever"))
    assert r.status_code == 503
    assert r.headers["Retry-After"].isdigit() and 1 <= int(r.headers["Retry-After"]) <= 10
    assert r.json["error"]["code"] == "service_unavailable"
    assert r.json["error"]["message"] == "服务暂时不可用，请稍后重试。"
    check_response("/counter/redeem", "post", r)  # as the OpenAPI document describes it
    r = down_app.test_client().post("/api/v1/counter/redeem?lang=en", json={"code": "K7QD-9XWF-3M2P"},
                                    headers=bearer("o2o_ck_whatever"))
    assert r.json["error"]["message"] == "The service is briefly unavailable; please try again in a moment."


def test_a_browser_gets_a_page_saying_so(down_app):
    r = down_app.test_client().get("/m/some-shop/", headers={"Accept": "text/html"})
    assert r.status_code == 503 and r.headers["Retry-After"]
    html = r.get_data(as_text=True)
    assert "服务暂时不可用，请稍后重试。" in html and 'data-code="service_unavailable"' in html
    assert "Traceback" not in html
    assert 'data-testid="error-retry"' in html and 'href="http://localhost/m/some-shop/"' in html  # load it again


def test_healthz_stays_503(down_app):
    assert down_app.test_client().get("/healthz").status_code == 503


def test_an_error_in_what_was_asked_stays_a_500_not_a_503(tmp_path):
    """Only a database that cannot be reached is 'unavailable': a broken statement is a bug, reported as one."""
    from app.core.database import is_outage

    engine = sa.create_engine("sqlite://")
    with engine.connect() as c:
        with pytest.raises(sa.exc.OperationalError) as exc:
            c.execute(sa.text("SELECT * FROM no_such_table"))
    assert not is_outage(exc.value)
    with pytest.raises(sa.exc.IntegrityError) as exc:
        with engine.begin() as c:
            c.execute(sa.text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
            c.execute(sa.text("INSERT INTO t VALUES (1), (1)"))
    assert not is_outage(exc.value)


def test_sqlite_locked_past_busy_timeout_is_an_outage(tmp_path):
    from app.core.database import is_outage

    path = tmp_path / "locked.sqlite3"
    holder = sa.create_engine(f"sqlite:///{path}", connect_args={"isolation_level": None})
    waiter = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.1})
    with holder.connect() as h:
        h.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY)")
        h.exec_driver_sql("BEGIN IMMEDIATE")
        with waiter.connect() as w, pytest.raises(sa.exc.OperationalError) as exc:
            w.execute(sa.text("INSERT INTO t VALUES (1)"))
        h.exec_driver_sql("ROLLBACK")
    assert "database is locked" in str(exc.value) and is_outage(exc.value)


# ----------------------------------------------------------------------------------- PostgreSQL, real cuts

needs_postgresql = pytest.mark.skipif(
    not (base_url() or "").startswith("postgres"), reason="cuts a TCP connection to PostgreSQL (TEST_DATABASE_URL)")


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):
    """An app on its own PostgreSQL database reached through a TcpProxy, with a world committed in it."""
    from tests.support.factories import make_world

    with fresh_database("outage") as url, TcpProxy.for_url(url) as proxy:
        app = create_app({"SQLALCHEMY_DATABASE_URI": proxy.url_for(url), "SECRET_KEY": "x", "TESTING": True,
                          "APP_BASE_URL": "http://shop.test"}, instance_path=tmp_path_factory.mktemp("outage"))
        with app.app_context():
            db.create_all()
            world = make_world()
            keys = {"merchant": world.merchant_key, "counter": world.counter_key}
            db.session.commit()
            db.session.remove()
        yield app, proxy, keys
        proxy.restore()
        with app.app_context():
            db.engine.dispose()


def _issue(client, keys) -> dict:
    r = client.post("/api/v1/vouchers", json={"title": "断线测试券"}, headers=bearer(keys["merchant"]))
    assert r.status_code == 201, r.get_data(as_text=True)
    return r.json


def _redemptions(app, voucher_id: int) -> int:
    with app.app_context():
        return db.session.execute(sa.text("SELECT count(*) FROM redemptions WHERE voucher_id = :v"),
                                  {"v": voucher_id}).scalar()


@needs_postgresql
def test_requests_while_cut_are_503_and_the_worker_recovers_by_itself(proxied):
    app, proxy, keys = proxied
    client = app.test_client()
    v = _issue(client, keys)  # the pool now holds a connection that the cut will kill
    proxy.cut()
    try:
        body = {"code": v["code"], "idempotency_key": "cut-1"}
        for _ in range(3):
            r = client.post("/api/v1/counter/redeem", json=body, headers=bearer(keys["counter"]))
            assert r.status_code == 503 and r.json["error"]["code"] == "service_unavailable"
        assert client.get("/healthz").status_code == 503
    finally:
        proxy.restore()
    assert client.get("/healthz").status_code == 200
    r = client.post("/api/v1/counter/redeem", json=body, headers=bearer(keys["counter"]))
    assert r.status_code == 200, r.json
    assert _redemptions(app, v["id"]) == 1


@needs_postgresql
def test_a_connection_lost_at_commit_is_a_503_and_nothing_is_kept(proxied):
    app, proxy, keys = proxied
    client = app.test_client()
    v = _issue(client, keys)
    body = {"code": v["code"], "idempotency_key": "commit-cut-1"}

    def cut_before_commit(session):
        proxy.cut()  # the view's work is flushed; the COMMIT goes to a dead connection

    with app.app_context():
        sa.event.listen(db.session, "before_commit", cut_before_commit)
    try:
        r = client.post("/api/v1/counter/redeem", json=body, headers=bearer(keys["counter"]))
    finally:
        with app.app_context():
            sa.event.remove(db.session, "before_commit", cut_before_commit)
        proxy.restore()
    assert r.status_code == 503, r.get_data(as_text=True)
    assert r.json["error"]["code"] == "service_unavailable" and r.headers["Retry-After"]
    assert _redemptions(app, v["id"]) == 0  # the transaction died with its connection
    # The same worker, the next request: a fresh connection, and the same key redeems once.
    r = client.post("/api/v1/counter/redeem", json=body, headers=bearer(keys["counter"]))
    assert r.status_code == 200, r.json
    again = client.post("/api/v1/counter/redeem", json=body, headers=bearer(keys["counter"]))
    assert again.status_code == 200 and again.json == r.json
    assert _redemptions(app, v["id"]) == 1


@needs_postgresql
def test_a_server_that_does_not_answer_at_all_is_a_503_within_seconds(proxied):
    """Packets dropped (a network partition): new connections hang. The connect timeout makes it a 503 in
    seconds rather than a worker held until gunicorn kills it."""
    import time

    app, proxy, keys = proxied
    client = app.test_client()
    v = _issue(client, keys)
    proxy.cut("blackhole")
    try:
        started = time.monotonic()
        r = client.post("/api/v1/counter/redeem", json={"code": v["code"], "idempotency_key": "bh-1"},
                        headers=bearer(keys["counter"]))
        took = time.monotonic() - started
    finally:
        proxy.restore()
    assert r.status_code == 503 and r.json["error"]["code"] == "service_unavailable"
    assert took < 10, f"took {took:.1f} s"
    r = client.post("/api/v1/counter/redeem", json={"code": v["code"], "idempotency_key": "bh-1"},
                    headers=bearer(keys["counter"]))
    assert r.status_code == 200 and _redemptions(app, v["id"]) == 1


@needs_postgresql
def test_backends_terminated_as_in_a_restart_are_a_503_then_200(proxied):
    """What a PostgreSQL restart does to open connections: the server ends them ('terminating connection due
    to administrator command'). Done here to this test database's own backends only, with
    pg_terminate_backend, between the view's work and its COMMIT; the next request is served."""
    app, proxy, keys = proxied
    client = app.test_client()
    v = _issue(client, keys)
    admin = sa.create_engine(base_url().replace("postgresql://", "postgresql+psycopg://", 1),
                             isolation_level="AUTOCOMMIT")
    with app.app_context():
        database = db.engine.url.database

    def restart_before_commit(session):
        with admin.connect() as c:
            c.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :d AND pid <> pg_backend_pid()"), {"d": database})

    body = {"code": v["code"], "idempotency_key": "restart-1"}
    with app.app_context():
        sa.event.listen(db.session, "before_commit", restart_before_commit)
    try:
        r = client.post("/api/v1/counter/redeem", json=body, headers=bearer(keys["counter"]))
    finally:
        with app.app_context():
            sa.event.remove(db.session, "before_commit", restart_before_commit)
        admin.dispose()
    assert r.status_code == 503 and r.json["error"]["code"] == "service_unavailable"
    assert _redemptions(app, v["id"]) == 0
    r = client.post("/api/v1/counter/redeem", json=body, headers=bearer(keys["counter"]))
    assert r.status_code == 200 and _redemptions(app, v["id"]) == 1
