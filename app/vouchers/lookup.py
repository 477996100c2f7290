"""From what a cashier presents (scanned QR or typed code) to a voucher, with guess rate limiting."""
from __future__ import annotations

from flask import current_app

from app.vouchers.errors import Forged, VoucherNotFound
from app.vouchers.guard import GuessScope, ensure_allowed, record_failed_guess
from app.vouchers.models import Voucher
from app.vouchers.service import Actor, find, parse_presented


def lookup(text: str, actor: Actor, scope: GuessScope) -> Voucher:
    """A lookup that finds nothing (forged or not found) counts against the scope's allowance; a code
    that exists, whatever its state, does not."""
    ensure_allowed(scope)
    try:
        kind, value = parse_presented(text, secret=current_app.config["SECRET_KEY"],
                                      max_age=current_app.config["QR_MAX_AGE_SECONDS"])
        return find(actor.merchant_id, kind, value)
    except (Forged, VoucherNotFound):
        record_failed_guess(scope)
        raise
