"""Rate limits on guessing codes at the counter.

Only a lookup that finds nothing counts as a try (``not_found``, or ``forged``: a failed check character
or signature); a refusal for a code that exists (already redeemed, wrong store, ...) is not a guess.
Tries are counted per device, per store and per client IP, in Flask-Limiter's storage (Redis when
REDIS_URL is set, so all workers and machines share the counts; memory otherwise).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime, timezone

from flask import current_app
from limits import parse_many

from app.core import logging as applog
from app.core.clock import iso, to_shanghai
from app.core.errors import TooManyTries
from app.extensions import limiter


@dataclass(frozen=True)
class GuessScope:
    device: str
    store_id: int
    ip: str

    def keyed_limits(self):
        cfg = current_app.config
        for setting, key in (("GUESS_LIMITS", f"device:{self.device}"),
                             ("GUESS_LIMITS_STORE", f"store:{self.store_id}"),
                             ("GUESS_LIMITS_IP", f"ip:{self.ip}")):
            for item in _parsed(cfg[setting]):
                yield setting, key, item


@lru_cache(maxsize=32)
def _parsed(limits: str):
    return tuple(parse_many(limits))


def ensure_allowed(scope: GuessScope) -> None:
    """Refuse before any lookup when one of the scope's allowances is used up."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    strategy = limiter.limiter
    for setting, key, item in scope.keyed_limits():
        if not strategy.test(item, "guess", key):
            stats = strategy.get_window_stats(item, "guess", key)
            if setting == "GUESS_LIMITS_STORE":
                # Tell the merchant: a store that keeps hitting its limit is being probed.
                applog.event("store hit the code-guess limit", level=30, store_id=scope.store_id,
                             device=scope.device, ip=scope.ip, limit=str(item))
            retry_at = datetime.fromtimestamp(stats.reset_time, tz=timezone.utc)
            raise TooManyTries(scope=setting.removeprefix("GUESS_LIMITS").strip("_").lower() or "device",
                               limit=str(item), retry_at=iso(retry_at),
                               retry_at_local=to_shanghai(retry_at).strftime("%H:%M:%S"))


def record_failed_guess(scope: GuessScope) -> None:
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    strategy = limiter.limiter
    for _setting, key, item in scope.keyed_limits():
        strategy.hit(item, "guess", key)
