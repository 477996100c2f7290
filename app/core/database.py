"""Per-connection database settings, the transaction boundary, and work deferred until after commit.

One transaction per request or job: services flush, and the boundary commits once at its end (or rolls
back when anything raised). Calls to the outside world (WeChat, job queue) are `defer`red so they run
only once the data they refer to is committed.
"""
from __future__ import annotations

from typing import Callable

import sqlalchemy as sa
from flask import Flask

from app.extensions import db


def _sqlite_pragmas(dbapi_connection, _record):
    cur = dbapi_connection.cursor()
    # WAL lets readers run beside the one writer; busy_timeout makes a second writer wait instead of
    # failing with "database is locked" (a third of concurrent writes failed without it).
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def defer(fn: Callable[[], object]) -> None:
    """Run `fn` after the current transaction commits; dropped if it rolls back."""
    db.session.info.setdefault("after_commit", []).append(fn)


def commit() -> None:
    """Commit, then run the deferred work."""
    db.session.commit()
    pending = db.session.info.pop("after_commit", [])
    for fn in pending:
        fn()


def rollback() -> None:
    db.session.rollback()
    db.session.info.pop("after_commit", None)


def init_app(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            sa.event.listen(engine, "connect", _sqlite_pragmas)

    @app.after_request
    def _commit(response):
        # Error responses were rolled back by the error handler; a 2xx/3xx commits its work.
        if response.status_code < 400:
            commit()
        else:
            rollback()
        return response


def ping() -> None:
    """Raises when the database cannot be reached."""
    with db.engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))


def insert_ignoring_conflict(model, values: dict, conflict_cols: list[str]):
    """INSERT ... ON CONFLICT (cols) DO NOTHING, for PostgreSQL and SQLite: the claim-a-key idiom."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model).values(**values).on_conflict_do_nothing(index_elements=conflict_cols)
