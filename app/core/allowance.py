"""Counting tries against allowances (code guesses at the counter, verification texts) in storage every
worker and machine shares: Redis when REDIS_URL is set, else the database (app.core.rate_counters).

Redis is an accelerator, never a single point of failure: when it cannot be reached, tries are counted in
the database instead (so the limits still hold across workers and machines), a warning is logged at most
once a minute per process, and Redis is tried again after RETRY_SECONDS (connections give up after
CONNECT_TIMEOUT, so while it is down no request waits for it). The two stores do not add up: the
database starts an outage from zero, and Redis counts on from what it held (or from zero, restarted), so
each switch can grant a key one more window's allowance. Redis answering again is logged too.

Fixed windows in both stores (see app.core.rate_counters for the database's): at most N tries in a window.
A lookup reads the counts before acting and counts after failing, so requests in flight at the same moment
for one key can pass the limit by at most their number (one per worker busy with that key).

Nothing here runs per request: the two callers (app.vouchers.guard, app.members.phone) ask when they need
to, so pages pay nothing for it. (Flask-Limiter, used before, checked its route limits in a before_request
hook that cost about 0.18 ms on every request, for routes that have none.) `memory://` (one process's
memory) is for tests only: the suite's rolled-back session holds SQLite's write lock, which the database
counters' own connection would wait for.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import Iterable, Sequence

from flask import Flask, current_app
from limits import RateLimitItem, parse_many, storage, strategies
from limits.errors import StorageError
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

from app.core import logging as applog
from app.core.rate_counters import DatabaseCounters, Window, window

DATABASE = "database"
CONNECT_TIMEOUT = 0.25  # seconds to reach Redis before counting in the database instead
COMMAND_TIMEOUT = 0.5
RETRY_SECONDS = 5  # how long to count in the database before trying Redis again
WARN_SECONDS = 60  # at most one warning a minute per process while Redis is down

# (limits, scope, key): e.g. ("10/minute;60/hour", "guess", "device:key:12")
Check = tuple[str, str, str]


@lru_cache(maxsize=64)
def parsed(limits: str) -> tuple[RateLimitItem, ...]:
    """'10/minute;60/hour' -> its items, parsed once."""
    return tuple(parse_many(limits))


@dataclass(frozen=True)
class UsedUp:
    index: int  # of the check whose allowance is used up
    item: RateLimitItem
    reset_at: datetime


class Allowance:
    """The unbound extension: each app's counters live in `app.extensions["allowance"]` (a `Counters`)."""

    def init_app(self, app: Flask) -> None:
        app.extensions["allowance"] = Counters(app)

    @staticmethod
    def counters() -> Counters:
        return current_app.extensions["allowance"]

    def first_used_up(self, checks: Sequence[Check]) -> UsedUp | None:
        """The first of `checks` whose allowance is used up (and the first such item of its limits); None
        when all allow another try. Counts nothing. From the database: one query for all of them."""
        if not current_app.config.get("RATELIMIT_ENABLED", True):
            return None
        return self.counters().first_used_up(checks)

    def hit_all(self, checks: Iterable[Check]) -> UsedUp | None:
        """Count one try against every limit of every check. Returns the first limit this try went past
        (a try racing another past the last one left), or None; None too when the count is put off
        (app.core.rate_counters: SQLite, caller holding the write lock)."""
        if not current_app.config.get("RATELIMIT_ENABLED", True):
            return None
        return self.counters().hit_all(list(checks))

    def exhausted(self, limits: str, scope: str, key: str) -> tuple[RateLimitItem, datetime] | None:
        """The first of `limits` used up for (scope, key), with when its window resets; None when all allow
        another try. Counts nothing."""
        used_up = self.first_used_up([(limits, scope, key)])
        return None if used_up is None else (used_up.item, used_up.reset_at)

    def hit(self, limits: str, scope: str, key: str) -> tuple[RateLimitItem, datetime] | None:
        """Count one try against every one of `limits`; the first one it went past, as `exhausted` says."""
        over = self.hit_all([(limits, scope, key)])
        return None if over is None else (over.item, over.reset_at)

    def redis_reachable(self) -> bool | None:
        """None without Redis; else whether it answers now (for /healthz)."""
        return self.counters().redis_reachable()

    def reset(self) -> None:
        """Forget every count (tests)."""
        self.counters().reset()


class Counters:
    """One app's storage: Redis (or, in tests, memory) through `limits`, and the database."""

    def __init__(self, app: Flask) -> None:
        uri = app.config.get("RATELIMIT_STORAGE_URI") or DATABASE
        self.strategy: strategies.FixedWindowRateLimiter | None = None
        if uri != DATABASE:
            options = {}
            if not uri.startswith("memory://"):
                # redis-py retries 10 times with back-off by default: seconds per call while Redis is down.
                options = dict(socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=COMMAND_TIMEOUT,
                               retry=Retry(NoBackoff(), 1))
            self.strategy = strategies.FixedWindowRateLimiter(
                storage.storage_from_string(uri, wrap_exceptions=True, **options))
        self.database = DatabaseCounters(app.extensions["sqlalchemy"])
        self._redis_retry_at = 0.0  # time.monotonic() before which Redis is not asked
        self._redis_down = False
        self._warned_at = float("-inf")

    def first_used_up(self, checks: Sequence[Check]) -> UsedUp | None:
        strategy = self._redis()
        if strategy is not None:
            try:
                used_up = _first_used_up_in(strategy, checks)
                if self._redis_down:
                    self._redis_back()
                return used_up
            except (StorageError, RedisError) as exc:
                self._redis_failed(exc)
        now = self.database.clock()
        windows = list(_windows(checks, now))
        counts = self.database.counts(w for _i, _item, w in windows)
        for index, item, (key, start, seconds) in windows:
            if counts.get((key, start), 0) >= item.amount:
                return UsedUp(index, item, datetime.fromtimestamp(start + seconds, tz=timezone.utc))
        return None

    def hit_all(self, checks: Sequence[Check]) -> UsedUp | None:
        strategy = self._redis()
        if strategy is not None:
            try:
                over = None
                for index, (limits, scope, key) in enumerate(checks):
                    for item in parsed(limits):
                        if not strategy.hit(item, scope, key) and over is None:
                            reset = strategy.get_window_stats(item, scope, key).reset_time
                            over = UsedUp(index, item, datetime.fromtimestamp(reset, tz=timezone.utc))
                return over
            except StorageError as exc:
                self._redis_failed(exc)
        now = self.database.clock()
        windows = list(_windows(checks, now))
        counts = self.database.add(w for _i, _item, w in windows)
        for index, item, (key, start, seconds) in windows:
            if counts.get((key, start), 0) > item.amount:
                return UsedUp(index, item, datetime.fromtimestamp(start + seconds, tz=timezone.utc))
        return None

    def reset(self) -> None:
        if self.strategy is not None:
            self.strategy.storage.reset()
        if not self.in_memory:  # (memory never fails over to the database)
            self.database.reset()
        self._redis_retry_at = 0.0

    @property
    def in_memory(self) -> bool:
        return self.strategy is not None and self.strategy.storage.STORAGE_SCHEME == ["memory"]

    # ------------------------------------------------------------------ Redis, while it answers

    def redis_reachable(self) -> bool | None:
        strategy = self.strategy
        if strategy is None or self.in_memory:
            return None
        if time.monotonic() < self._redis_retry_at:
            return False  # known down: not asked again before the back-off ends
        if strategy.storage.check():  # a PING under the short timeouts; never raises
            if self._redis_down:
                self._redis_back()
            return True
        self._redis_failed(None)
        return False

    def _redis(self) -> strategies.FixedWindowRateLimiter | None:
        if self.strategy is None or time.monotonic() < self._redis_retry_at:
            return None
        return self.strategy

    def _redis_failed(self, exc: Exception | None) -> None:
        now = time.monotonic()
        self._redis_retry_at = now + RETRY_SECONDS
        self._redis_down = True
        if now - self._warned_at >= WARN_SECONDS:
            self._warned_at = now
            cause = exc.storage_error if isinstance(exc, StorageError) else exc
            applog.event("redis unreachable: counting tries in the database", level=logging.WARNING,
                         error=repr(cause) if cause else "no answer to PING", retry_seconds=RETRY_SECONDS)

    def _redis_back(self) -> None:
        self._redis_down = False
        applog.event("redis reachable again: counting tries in redis", level=logging.WARNING)


def _first_used_up_in(strategy: strategies.FixedWindowRateLimiter, checks: Sequence[Check]) -> UsedUp | None:
    """The first allowance used up. In Redis every window's counter is read in one MGET (one round trip
    for the device, store and IP limits together, instead of one per window); in memory (tests) each is
    asked in turn. The same counters `limits` keeps: `hit` writes them."""
    items = [(index, item, scope, key) for index, (limits, scope, key) in enumerate(checks) for item in parsed(limits)]
    store = strategy.storage
    client = getattr(store, "storage", None)
    if client is not None and hasattr(store, "prefixed_key") and hasattr(client, "mget"):
        counts = client.mget([store.prefixed_key(item.key_for(scope, key)) for _i, item, scope, key in items])
        used = [int(c or 0) >= item.amount for c, (_i, item, _s, _k) in zip(counts, items)]
    else:
        used = [not strategy.test(item, scope, key) for _i, item, scope, key in items]
    for (index, item, scope, key), is_used in zip(items, used):
        if is_used:
            reset = strategy.get_window_stats(item, scope, key).reset_time
            return UsedUp(index, item, datetime.fromtimestamp(reset, tz=timezone.utc))
    return None


def _windows(checks: Sequence[Check], now: float) -> Iterable[tuple[int, RateLimitItem, Window]]:
    """(check index, item, its database window) in the order of `checks` and of their limits."""
    for index, (limits, scope, key) in enumerate(checks):
        for item in parsed(limits):
            yield index, item, window(f"{scope}/{key}", item.get_expiry(), now)
