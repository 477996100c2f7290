"""Counters of tries kept in the database: the storage every worker and machine shares when there is no
Redis (REDIS_URL empty), and the fallback while Redis cannot be reached (app.core.allowance).

Fixed windows aligned to the clock: a limit of N per T seconds counts the tries made between
floor(now / T) * T and that plus T in one row (key, window_start). Like the `limits` library's fixed
window (which starts its window at the first hit instead), no window ever admits more than N tries, and a
burst of up to 2N can straddle a boundary; aligned windows tile time, so a year holds at most
N * (year / T) tries: exactly the figure the guessing bound in app/vouchers/codes.py multiplies.

Reading costs one indexed SELECT on the caller's session (every code lookup reads "is this device
locked?"; a successful lookup writes nothing). Counting a try is one `INSERT ... ON CONFLICT DO UPDATE
... RETURNING` on a connection of its own, committed at once: a refused lookup rolls back its request's
transaction, and the try must stay counted all the same. (On SQLite, when the caller's transaction has
written already, its connection holds the one write lock, which the counters' connection would wait for:
the try is then counted the moment that transaction ends, committed or rolled back.) Rows of ended windows
are deleted by the same short transaction, at most once a minute per process, so no job is needed
(`delete_expired` is there for one all the same).
"""
from __future__ import annotations

import hashlib
import time
from functools import lru_cache
from typing import Callable, Iterable

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.core import logging as applog
from app.core.db import Base

SWEEP_SECONDS = 60
_KEY_LENGTH = 200


class RateCounter(Base):
    """Tries counted for one key in one window. Times are unix seconds (UTC): a counter's clock, not a
    moment anybody reads."""

    __tablename__ = "rate_counters"

    # "<scope>/<key>/<window seconds>", e.g. "guess/device:key:12/60"
    key: Mapped[str] = mapped_column(sa.String(_KEY_LENGTH), primary_key=True)
    window_start: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True)
    expires_at: Mapped[int] = mapped_column(sa.BigInteger, index=True)
    hits: Mapped[int]

    __table_args__ = (sa.CheckConstraint("hits >= 0", name="hits_nonneg"),)


Window = tuple[str, int, int]  # (key, window_start, seconds)
_PENDING = "rate_counters.pending"  # in Session.info: tries to count once its transaction ends


@lru_cache(maxsize=16)
def _counts_statement(n: int) -> sa.Select:
    """SELECT the rows of n (key, window_start) pairs: one statement per n, compiled once (a guess check
    reads 6 rows; an expanding tuple IN would cost more in Python than the query does)."""
    t = RateCounter.__table__
    return sa.select(t.c.key, t.c.window_start, t.c.hits).where(sa.or_(*(
        sa.and_(t.c.key == sa.bindparam(f"k{i}"), t.c.window_start == sa.bindparam(f"w{i}")) for i in range(n))))


_DELETE_EXPIRED = sa.delete(RateCounter).where(RateCounter.expires_at <= sa.bindparam("now"))


def window(key: str, seconds: int, now: float) -> Window:
    """The row that counts tries for `key` under a limit per `seconds`, at `now`."""
    name = f"{key}/{seconds}"
    if len(name) > _KEY_LENGTH:  # (keys are ours, but an IP or device id could be long): keep them apart
        name = f"{name[:_KEY_LENGTH - 41]}#{hashlib.sha256(name.encode()).hexdigest()[:40]}"
    return name, int(now // seconds) * seconds, seconds


class DatabaseCounters:
    def __init__(self, database: SQLAlchemy, clock: Callable[[], float] = time.time) -> None:
        self.database = database
        # Real time, like Redis's expiries: the clock tests freeze (app.core.clock) does not move windows.
        self.clock = clock
        self._swept_at = float("-inf")

    def counts(self, windows: Iterable[Window]) -> dict[tuple[str, int], int]:
        """Tries counted so far in each of `windows` (absent: none), in one SELECT on the caller's session."""
        pairs = sorted({(key, start) for key, start, _seconds in windows})
        if not pairs:
            return {}
        params = {}
        for i, (key, start) in enumerate(pairs):
            params[f"k{i}"], params[f"w{i}"] = key, start
        rows = self.database.session.connection().execute(_counts_statement(len(pairs)), params)
        return {(key, start): hits for key, start, hits in rows}

    def add(self, windows: Iterable[Window]) -> dict[tuple[str, int], int]:
        """Count one try in each of `windows`, committed on a connection of its own whatever the caller's
        transaction does next; returns the counts after it ({} when put off, see below)."""
        amounts: dict[tuple[str, int], list[int]] = {}
        for key, start, seconds in windows:
            amounts.setdefault((key, start), [0, start + seconds])[0] += 1
        if not amounts:
            return {}
        rows = [dict(key=key, window_start=start, expires_at=expires, hits=n)
                for (key, start), (n, expires) in amounts.items()]
        session = self.database.session()
        if self._holds_sqlite_write_lock(session):
            # A second connection would wait for this one's write lock until the busy timeout: count as
            # soon as the caller's transaction ends instead (committed or rolled back alike).
            session.info.setdefault(_PENDING, []).append((self, rows))
            return {}
        return self._upsert(rows)

    def _upsert(self, rows: list[dict]) -> dict[tuple[str, int], int]:
        # Rows in key order: two workers counting overlapping keys lock them in the same order (no deadlock).
        rows = sorted(rows, key=lambda r: (r["key"], r["window_start"]))
        with self.database.engine.begin() as conn:
            insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(RateCounter)
            statement = insert.values(rows)
            statement = statement.on_conflict_do_update(
                index_elements=[RateCounter.key, RateCounter.window_start],
                set_={"hits": RateCounter.hits + statement.excluded.hits},
            ).returning(RateCounter.key, RateCounter.window_start, RateCounter.hits)
            counted = {(key, start): hits for key, start, hits in conn.execute(statement)}
            now = self.clock()
            if now - self._swept_at >= SWEEP_SECONDS:
                self._swept_at = now
                conn.execute(_DELETE_EXPIRED, {"now": int(now)})
        return counted

    def _holds_sqlite_write_lock(self, session: Session) -> bool:
        if self.database.engine.dialect.name != "sqlite" or session.get_transaction() is None:
            return False
        # pysqlite begins a transaction only before a write: in_transaction means this one holds the lock.
        return bool(session.connection().connection.driver_connection.in_transaction)

    def delete_expired(self) -> int:
        """Delete the rows of every ended window; returns how many."""
        with self.database.engine.begin() as conn:
            return conn.execute(_DELETE_EXPIRED, {"now": int(self.clock())}).rowcount

    def reset(self) -> None:
        """Forget every count (tests)."""
        with self.database.engine.begin() as conn:
            conn.execute(sa.delete(RateCounter))


@sa.event.listens_for(Session, "after_transaction_end")
def _count_put_off_tries(session: Session, transaction) -> None:
    if transaction.parent is not None or _PENDING not in session.info:
        return
    for counters, rows in session.info.pop(_PENDING):
        try:
            counters._upsert(rows)
        except sa.exc.SQLAlchemyError as exc:  # never fail the commit or rollback that ended the request
            applog.event("tries not counted", level=40, error=repr(exc), keys=[r["key"] for r in rows])
