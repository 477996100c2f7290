"""Values every worker and machine shares, each with an expiry, kept in the database: WeChat's access token
and jsapi ticket. `storage()` is a wechatpy session storage (get, set(key, value, ttl), delete).

Why: WeChat keeps one access token per official account, and fetching a new one ends the previous one
five minutes later. With a token per worker (wechatpy's MemoryStorage), each gunicorn worker's fetch ended
the tokens of the others: template messages and share cards then failed with errcode 40001 until that
worker fetched again, ending someone else's. In the database every worker of every machine uses one token,
it survives a restart, and no Redis is needed.

Reads: each process keeps a value it has read for LOCAL_SECONDS at most (never past the value's own expiry),
so a share page costs no query for its token and ticket. A value another worker replaced is picked up
within that time; WeChat's five minutes of grace cover it. Writes go on a connection of their own,
committed at once: a page that rolls back must not forget a token WeChat has already replaced. On SQLite,
while the caller's transaction holds the one write lock (a second connection would wait for it), the value
is kept in this process only and written by the next fetch.
"""
from __future__ import annotations

import json
import time
from typing import Any, Callable

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from app.core import logging as applog
from app.core.database import SQLITE_BUSY_MS
from app.core.db import Base
from app.extensions import db

LOCAL_SECONDS = 60
SQLITE_WAIT_MS = 200  # how long a write waits for SQLite's lock before the value stays in this process


class SharedValue(Base):
    """One shared value. `expires_at` in unix seconds (UTC), NULL for none: a cache's clock, not a time
    anybody reads."""

    __tablename__ = "shared_values"

    key: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    value: Mapped[str] = mapped_column(sa.Text)  # JSON
    expires_at: Mapped[int | None] = mapped_column(sa.BigInteger)


_T = SharedValue.__table__
_READ = sa.select(_T.c.value, _T.c.expires_at).where(_T.c.key == sa.bindparam("key"))


class DatabaseStorage:
    """A wechatpy SessionStorage (duck-typed) over `shared_values`."""

    def __init__(self, database: SQLAlchemy, clock: Callable[[], float] = time.time) -> None:
        self.database = database
        # Real time, like WeChat's expiries: the clock tests freeze (app.core.clock) does not move them.
        self.clock = clock
        self._local: dict[str, tuple[Any, float]] = {}  # key -> (value, keep until)

    def get(self, key: str, default: Any = None) -> Any:
        now = self.clock()
        found = self._local.get(key)
        if found is not None and now < found[1]:
            return found[0]
        try:
            with self.database.engine.connect() as conn:
                row = conn.execute(_READ, {"key": key}).one_or_none()
        except sa.exc.DBAPIError as exc:  # the database is away: what this process kept, if anything
            applog.event("shared value not read", level=30, error=str(exc.orig)[:200])
            return found[0] if found is not None else default
        if row is None or (row.expires_at is not None and row.expires_at <= now):
            self._local.pop(key, None)
            return default
        value = json.loads(row.value)
        self._keep(key, value, row.expires_at, now)
        return value

    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        now = self.clock()
        expires_at = int(now + ttl) if ttl else None
        self._keep(key, value, expires_at, now)
        if self._holds_sqlite_write_lock():
            applog.event("shared value kept in this process only (the write lock is held)", level=20, key=key)
            return
        row = {"key": key, "value": json.dumps(value), "expires_at": expires_at}
        insert = (postgresql.insert if self.database.engine.dialect.name == "postgresql" else sqlite.insert)(SharedValue)
        statement = insert.values(row)
        self._write(statement.on_conflict_do_update(
            index_elements=[_T.c.key], set_={"value": statement.excluded.value, "expires_at": statement.excluded.expires_at}))

    def delete(self, key: str) -> None:
        self._local.pop(key, None)
        if not self._holds_sqlite_write_lock():
            self._write(sa.delete(SharedValue).where(_T.c.key == key))

    def _write(self, statement) -> bool:
        """One statement committed on a connection of its own. A cache write never fails its caller: when the
        database cannot take it (down, or SQLite's lock held by another connection past SQLITE_WAIT_MS) the
        value stays in this process, and a warning is logged."""
        try:
            with self.database.engine.begin() as conn:
                on_sqlite = conn.dialect.name == "sqlite"
                if on_sqlite:
                    conn.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_WAIT_MS}")
                try:
                    conn.execute(statement)
                finally:
                    if on_sqlite:  # the connection goes back to the pool with the app's usual wait
                        conn.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
            return True
        except sa.exc.DBAPIError as exc:
            applog.event("shared value kept in this process only", level=30, error=str(exc.orig)[:200])
            return False

    def forget_local(self) -> None:
        """Drop what this process keeps (tests standing for another worker)."""
        self._local.clear()

    def _keep(self, key: str, value: Any, expires_at: int | None, now: float) -> None:
        until = now + LOCAL_SECONDS
        self._local[key] = (value, until if expires_at is None else min(until, expires_at))

    def _holds_sqlite_write_lock(self) -> bool:
        if self.database.engine.dialect.name != "sqlite":
            return False
        session = self.database.session()
        if session.get_transaction() is None:
            return False
        # pysqlite begins a transaction only before a write: in_transaction means this one holds the lock.
        return bool(session.connection().connection.driver_connection.in_transaction)

    # wechatpy's SessionStorage also offers item access
    __getitem__ = get

    def __setitem__(self, key: str, value: Any) -> None:
        self.set(key, value)

    def __delitem__(self, key: str) -> None:
        self.delete(key)


_STORAGE: DatabaseStorage | None = None


def reset() -> None:
    """Forget every shared value, stored and kept (tests)."""
    if _STORAGE is not None:
        _STORAGE.forget_local()
    with db.engine.begin() as conn:
        conn.execute(sa.delete(SharedValue))


def storage() -> DatabaseStorage:
    """This process's storage over the app's database."""
    global _STORAGE
    if _STORAGE is None:
        _STORAGE = DatabaseStorage(db)
    return _STORAGE
