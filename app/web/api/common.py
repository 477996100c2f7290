from __future__ import annotations

from flask import g, request

from app.extensions import db
from app.merchants.models import Merchant
from app.vouchers.guard import GuessScope
from app.vouchers.service import Actor


def counter_actor() -> Actor:
    p = g.principal
    return Actor(merchant_id=p.merchant_id, store_id=p.store_id, api_key_id=p.key_id,
                 device_id=(request.headers.get("X-Device-Id") or f"key:{p.key_id}")[:64])


def guess_scope(actor: Actor) -> GuessScope:
    # The device is the key itself (a client cannot widen its allowance by inventing device ids).
    return GuessScope(device=f"key:{actor.api_key_id}", store_id=actor.store_id, ip=request.remote_addr or "")


def merchant() -> Merchant:
    return db.session.get(Merchant, g.principal.merchant_id)
