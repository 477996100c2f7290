"""`flask db upgrade` from empty gives exactly the models' schema, on the test engine."""
from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.extensions import db
from tests.support.databases import fresh_database
from tests.support.live import app_env, flask


def test_upgrade_from_empty_matches_the_models(app):
    with fresh_database("schema") as url:
        flask(app_env(url), "db", "upgrade")
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        try:
            with engine.connect() as conn:
                ctx = MigrationContext.configure(conn, opts={"compare_type": True})
                diff = compare_metadata(ctx, db.metadata)
                tables = set(sa.inspect(conn).get_table_names())
        finally:
            engine.dispose()
    assert diff == []
    assert set(db.metadata.tables) <= tables


def test_downgrade_to_base_and_up_again():
    with fresh_database("downgrade") as url:
        env = app_env(url)
        flask(env, "db", "upgrade")
        flask(env, "db", "downgrade", "base")
        flask(env, "db", "upgrade")


def test_upgrade_keeps_existing_rows():
    """An installation on the first revision, with data pointing at the tables that later migrations
    rebuild (SQLite batch mode), upgrades to head without losing or breaking a row."""
    with fresh_database("data") as url:
        env = app_env(url)
        flask(env, "db", "upgrade", "cdc74166eb52")
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        try:
            with engine.begin() as c:
                c.execute(sa.text("INSERT INTO merchants (id, name, slug, undo_window_minutes, rotate_qr, created_at) "
                                  "VALUES (1, 'm', 'm', 30, true, '2026-01-01 00:00:00')"))
                c.execute(sa.text(
                    "INSERT INTO stores (id, merchant_id, name, city, address, latitude, longitude, opens_at, closes_at,"
                    " phone, active, created_at) VALUES (1, 1, 's', 'c', 'a', 31.2, 121.4, '08:00:00', '21:00:00',"
                    " '1', true, '2026-01-01 00:00:00')"))
                c.execute(sa.text(
                    "INSERT INTO members (id, merchant_id, openid, nickname, avatar_url, created_at)"
                    " VALUES (1, 1, 'o1', 'n', '', '2026-01-01 00:00:00')"))
            flask(env, "db", "upgrade")
            with engine.connect() as c:
                assert c.execute(sa.text("SELECT count(*) FROM stores WHERE merchant_id = 1")).scalar() == 1
                assert c.execute(sa.text("SELECT points FROM members WHERE id = 1")).scalar() == 0
                assert c.execute(sa.text("SELECT delivery_radius_m FROM stores WHERE id = 1")).scalar() == 0
        finally:
            engine.dispose()
