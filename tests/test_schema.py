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
