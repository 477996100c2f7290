"""Rate limits on guessing codes at the counter.

Only a lookup that finds nothing counts as a try (``not_found``, or ``forged``: a failed check character
or signature); a refusal for a code that exists (already redeemed, wrong store, ...) is not a guess.
Tries are counted per device, per store and per client IP, in app.core.allowance: Redis when REDIS_URL
is set, the database otherwise and while Redis cannot be reached, so every worker and machine shares them.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from app.core import logging as applog
from app.core.clock import iso, to_shanghai
from app.core.errors import TooManyTries
from app.extensions import allowance


@dataclass(frozen=True)
class GuessScope:
    device: str
    store_id: int
    ip: str

    def keyed_limits(self):
        """(setting, key, limits) for the device, the store and the IP, in that order."""
        cfg = current_app.config
        for setting, key in (("GUESS_LIMITS", f"device:{self.device}"),
                             ("GUESS_LIMITS_STORE", f"store:{self.store_id}"),
                             ("GUESS_LIMITS_IP", f"ip:{self.ip}")):
            yield setting, key, cfg[setting]


def ensure_allowed(scope: GuessScope) -> None:
    """Refuse before any lookup when one of the scope's allowances is used up (one read for all three)."""
    keyed = list(scope.keyed_limits())
    used_up = allowance.first_used_up([(limits, "guess", key) for _setting, key, limits in keyed])
    if used_up is None:
        return
    setting = keyed[used_up.index][0]
    item, retry_at = used_up.item, used_up.reset_at
    if setting == "GUESS_LIMITS_STORE":
        # Tell the merchant: a store that keeps hitting its limit is being probed.
        applog.event("store hit the code-guess limit", level=30, store_id=scope.store_id,
                     device=scope.device, ip=scope.ip, limit=str(item))
    raise TooManyTries(scope=setting.removeprefix("GUESS_LIMITS").strip("_").lower() or "device",
                       limit=str(item), retry_at=iso(retry_at),
                       retry_at_local=to_shanghai(retry_at).strftime("%H:%M:%S"))


def record_failed_guess(scope: GuessScope) -> None:
    allowance.hit_all([(limits, "guess", key) for _setting, key, limits in scope.keyed_limits()])
