"""Per-connection database settings, the transaction boundary, and work deferred until after commit.

One transaction per request or job: services flush, and the boundary commits once at its end (or rolls
back when anything raised). Calls to the outside world (WeChat, job queue) are `defer`red so they run
only once the data they refer to is committed.
"""
from __future__ import annotations

from functools import wraps
from typing import Callable

import sqlalchemy as sa
from flask import Flask, current_app

from app.core import logging as applog
from app.core.errors import ServiceUnavailable
from app.extensions import db

# SQLite's words for "try again" (a writer held the lock past busy_timeout; the file is briefly unreadable).
_SQLITE_TRANSIENT = ("database is locked", "database table is locked", "unable to open database", "disk i/o error")


SQLITE_BUSY_MS = 5000


def _sqlite_pragmas(dbapi_connection, _record):
    cur = dbapi_connection.cursor()
    # WAL lets readers run beside the one writer; busy_timeout makes a second writer wait instead of
    # failing with "database is locked" (a third of concurrent writes failed without it).
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
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


def reads_only(view: Callable) -> Callable:
    """For a view that only reads (the shop's catalog pages): on PostgreSQL its statements run in autocommit,
    so a page of one query costs one round trip instead of three (BEGIN, the query, COMMIT). Each statement
    then sees its own snapshot; the catalog snapshot stays right across them (a rebuild reads data at least
    as new as the rev it is labelled with, and a newer rev rebuilds it again). A write in such a view would
    commit at once: never put it on a view that writes (tests/web/test_read_only_pages.py checks the pages
    issue SELECTs only). Nothing changes on SQLite, or when the session is already in a transaction or bound
    to a connection (the tests' rolled-back session)."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        session = db.session()  # the request's Session (db.session is its scoped registry)
        bind = session.get_bind()
        if isinstance(bind, sa.Engine) and bind.dialect.name == "postgresql" and not session.in_transaction():
            session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        return view(*args, **kwargs)

    return wrapper


def rollback() -> None:
    db.session.info.pop("after_commit", None)
    try:
        db.session.rollback()
    except sa.exc.DBAPIError as exc:
        if not is_outage(exc):
            raise
        # The connection died under us: drop it (the pool replaces it) so the next request starts clean.
        db.session.close()


def is_outage(exc: BaseException) -> bool:
    """True when `exc` says the database could not be reached or dropped the connection (restarting, cut
    off, out of connections, a SQLite file locked past busy_timeout): the request may be sent again. Not for
    errors in what was asked (a constraint, a bad statement), which stay errors."""
    if isinstance(exc, sa.exc.TimeoutError):  # no pooled connection came free in time
        return True
    if not isinstance(exc, sa.exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    if isinstance(exc, sa.exc.InterfaceError):
        return True
    if isinstance(exc, sa.exc.OperationalError):
        if type(exc.orig).__module__.startswith("sqlite3"):
            return str(exc.orig).lower().startswith(_SQLITE_TRANSIENT)
        return True  # PostgreSQL: connection lost, shutting down, starting up, too many clients, ...
    return False


def init_app(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            sa.event.listen(engine, "connect", _sqlite_pragmas)

    @app.after_request
    def _commit(response):
        # Error responses were rolled back by the error handler; a 2xx/3xx commits its work.
        if response.status_code < 400:
            try:
                commit()
            except Exception as exc:
                rollback()
                if not is_outage(exc):
                    raise
                # The answer the view prepared never goes out: a 503, rendered by the app's error handler.
                # (A COMMIT whose reply was lost may still have committed: a retry with the same idempotency
                # key gets the first answer.)
                applog.log.warning("database unavailable at commit: %s", type(exc.__cause__ or exc).__name__,
                                   extra={"fields": {"error": str(exc).splitlines()[0][:200]}})
                unavailable = ServiceUnavailable()
                unavailable.__cause__ = exc
                return current_app.make_response(current_app.handle_user_exception(unavailable))
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
