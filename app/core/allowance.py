"""Counting tries against allowances (code guesses at the counter, verification texts) in shared storage:
Redis when REDIS_URL is set, so every worker and machine sees the same counts; memory otherwise.

Built on the `limits` library with fixed windows. Nothing here runs per request: the two callers
(app.vouchers.guard, app.members.phone) ask when they need to, so pages pay nothing for it. (Flask-Limiter,
used before, checked its route limits in a before_request hook that cost about 0.18 ms on every
request, for routes that have none.)
"""
from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache

from flask import Flask, current_app
from limits import RateLimitItem, parse_many, storage, strategies


@lru_cache(maxsize=64)
def parsed(limits: str) -> tuple[RateLimitItem, ...]:
    """'10/minute;60/hour' -> its items, parsed once."""
    return tuple(parse_many(limits))


class Allowance:
    def __init__(self) -> None:
        self._strategy: strategies.FixedWindowRateLimiter | None = None

    def init_app(self, app: Flask) -> None:
        self._strategy = strategies.FixedWindowRateLimiter(
            storage.storage_from_string(app.config["RATELIMIT_STORAGE_URI"]))
        app.extensions["allowance"] = self

    @property
    def strategy(self) -> strategies.FixedWindowRateLimiter:
        if self._strategy is None:
            raise RuntimeError("Allowance.init_app() was not called")
        return self._strategy

    def exhausted(self, limits: str, scope: str, key: str) -> tuple[RateLimitItem, datetime] | None:
        """The first of `limits` used up for (scope, key), with when its window resets; None when all allow
        another try. Counts nothing."""
        if not current_app.config.get("RATELIMIT_ENABLED", True):
            return None
        for item in parsed(limits):
            if not self.strategy.test(item, scope, key):
                reset = self.strategy.get_window_stats(item, scope, key).reset_time
                return item, datetime.fromtimestamp(reset, tz=timezone.utc)
        return None

    def hit(self, limits: str, scope: str, key: str) -> None:
        """Count one try against every one of `limits`."""
        if not current_app.config.get("RATELIMIT_ENABLED", True):
            return
        for item in parsed(limits):
            self.strategy.hit(item, scope, key)

    def reset(self) -> None:
        """Forget every count (tests)."""
        self.strategy.storage.reset()
