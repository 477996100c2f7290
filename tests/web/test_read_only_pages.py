"""The shop's catalog pages only read (app.core.database.reads_only): every statement they run is a SELECT,
and on PostgreSQL it runs in autocommit (one round trip, no BEGIN and COMMIT around it). A page that starts
writing must lose the decorator, and this test says so.

An app of its own on a database of its own: the suite's session is bound to one rolled-back connection,
where reads_only (rightly) changes nothing."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app import create_app, demo
from app.config import normalise_db_url
from app.extensions import db
from tests.support.databases import engine_name, fresh_database

SETTINGS = {"TESTING": True, "APP_BASE_URL": "http://shop.test", "SECRET_KEY": "test-secret",
            "RATELIMIT_STORAGE_URI": "memory://"}


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("readonly")
    with fresh_database("readonly") as url:
        app = create_app(dict(SETTINGS, SQLALCHEMY_DATABASE_URI=normalise_db_url(url, tmp)), instance_path=tmp)
        with app.app_context():
            db.create_all()
            out = demo.load("test-secret")
            db.session.commit()
            product_id = db.session.execute(sa.text("SELECT min(id) FROM products")).scalar()
        yield app, out, product_id, engine_name(url)
        with app.app_context():
            db.engine.dispose()


def _statements(app, path):
    seen: list[tuple[str, str | None]] = []

    def before(conn, _cursor, statement, *_):
        seen.append((statement.lstrip().split(None, 1)[0].upper(), conn.get_execution_options().get("isolation_level")))

    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", before)
        try:
            r = app.test_client().get(path)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", before)
    assert r.status_code == 200, (path, r.status_code)
    return seen


def test_catalog_pages_only_read_and_skip_the_transaction_on_postgresql(shop):
    app, out, product_id, engine = shop
    slug, store_id = out["merchant"]["slug"], out["stores"][0]["id"]
    for path in (f"/m/{slug}/", f"/m/{slug}/p/{product_id}?store={store_id}", f"/m/{slug}/s/{store_id}"):
        _statements(app, path)  # builds the catalog snapshot
        seen = _statements(app, path)
        assert seen, path
        assert {kind for kind, _ in seen} == {"SELECT"}, (path, seen)
        expected = "AUTOCOMMIT" if engine == "postgresql" else None
        assert {level for _, level in seen} == {expected}, (path, seen)
