"""Per-connection database settings and the request transaction boundary.

One transaction per request: services flush, and the request commits once at its end, or rolls back
when anything raised (see `app.web.errors`).
"""
from __future__ import annotations

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


def init_app(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            sa.event.listen(engine, "connect", _sqlite_pragmas)

    @app.after_request
    def _commit(response):
        # Error responses were rolled back by the error handler; a 2xx/3xx commits its work.
        if response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
        return response


def ping() -> None:
    """Raises when the database cannot be reached."""
    with db.engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))


def is_unique_violation(exc: Exception) -> bool:
    return isinstance(exc, sa.exc.IntegrityError)
