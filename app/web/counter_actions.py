"""What both counter front doors do (the cashier's page with a session, POS systems with a counter key):
parse, look the code up under the guess limits, act, answer. The callers only say who acts."""
from __future__ import annotations

from flask import current_app, request

from app.core.errors import TooManyTries
from app.core.schemas import parse
from app.coupons import counter as coupons
from app.extensions import db
from app.merchants.models import Merchant
from app.orders import handover
from app.vouchers import redeem as redeeming
from app.vouchers import service
from app.vouchers.errors import QrExpired
from app.vouchers.guard import GuessScope
from app.vouchers.lookup import lookup
from app.vouchers.models import Voucher
from app.vouchers.schemas import Present, Redeem, Undo


def verify(actor: service.Actor, scope: GuessScope) -> dict:
    data = parse(Present, request.get_json(silent=True))
    voucher = service.verify(lookup(data.code, actor, scope), actor, uses=data.uses)
    body = {"voucher": service.voucher_json(voucher), "redeemable": True, "order": handover.counter_info(voucher)}
    coupon = coupons.coupon_of(voucher)
    if coupon is not None:
        # A coupon adds its campaign's rule, and with a bill amount the discount and what is left to pay.
        terms = coupons.terms(coupon, data.amount_fen, required=False)
        body.update(kind="coupon", coupon=coupons.coupon_json(coupon), **terms.json())
    return body


def redeem(actor: service.Actor, scope: GuessScope) -> dict:
    data = parse(Redeem, request.get_json(silent=True))
    try:
        voucher = lookup(data.code, actor, scope)
    except (QrExpired, TooManyTries):
        # A retry of a redeem that went through returns its first answer, even when the rotating QR it
        # carried has gone stale since or the device has used up its guesses. (A retry whose code still
        # reads is replayed inside `service.redeem`, by its idempotency key.)
        replayed = redeeming.replay(actor, data.idempotency_key, data.code, secret=current_app.config["SECRET_KEY"])
        if replayed is None:
            raise
        return _with_coupon(replayed, db.session.get(Voucher, replayed.answer["voucher"]["id"]), None)
    coupon = coupons.coupon_of(voucher)
    # The campaign's refusals (online only, the bill amount, its threshold) come before any use is taken.
    terms = coupons.terms(coupon, data.amount_fen, required=True) if coupon is not None else None
    result = redeeming.redeem(voucher, actor, uses=data.uses, idempotency_key=data.idempotency_key)
    return _with_coupon(result, voucher, terms)


def _with_coupon(result: redeeming.RedeemResult, voucher: Voucher, terms) -> dict:
    coupon = coupons.coupon_of(voucher)
    if coupon is None:
        return result.answer
    if result.replayed or terms is None:
        terms = coupons.recorded(result.redemption_id, coupon)
    else:
        coupons.record(result.redemption_id, terms)
    # uses_left as the redemption left it (as in the answer's voucher), so a replay is identical.
    shown = {**coupons.coupon_json(coupon), "uses_left": result.answer["voucher"]["uses_left"]}
    return {**result.answer, "kind": "coupon", "coupon": shown, **terms.json()}


def undo(actor: service.Actor, redemption_id: int) -> dict:
    data = parse(Undo, request.get_json(silent=True))
    window = db.session.get(Merchant, actor.merchant_id).undo_window_minutes
    result = redeeming.undo(redemption_id, actor, reason=data.reason, undo_window_minutes=window)
    return {"redemption": service.redemption_json(result.redemption, with_undo=True),
            "voucher": service.voucher_json(result.voucher)}
