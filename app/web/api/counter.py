"""The counter contract for POS systems (store counter key): verify, redeem, undo."""
from __future__ import annotations

from flask import current_app, jsonify, request

from app.core.schemas import parse
from app.extensions import db
from app.merchants.models import KeyKind, Merchant
from app.orders import service as order_service
from app.vouchers import service
from app.vouchers.lookup import lookup
from app.vouchers.schemas import Present, Redeem, Undo
from app.web.api import bp
from app.web.api.common import counter_actor, guess_scope
from app.web.auth import key_required


@bp.post("/counter/verify")
@key_required(KeyKind.COUNTER)
def counter_verify():
    data = parse(Present, request.get_json(silent=True))
    actor = counter_actor()
    voucher = service.verify(lookup(data.code, actor, guess_scope(actor)), actor, uses=data.uses)
    return jsonify({"voucher": service.voucher_json(voucher), "redeemable": True,
                    "order": order_service.counter_info(voucher)})


@bp.post("/counter/redeem")
@key_required(KeyKind.COUNTER)
def counter_redeem():
    data = parse(Redeem, request.get_json(silent=True))
    actor = counter_actor()
    result = service.replay(
        actor, data.idempotency_key, data.code, secret=current_app.config["SECRET_KEY"]) or service.redeem(
        lookup(data.code, actor, guess_scope(actor)), actor, uses=data.uses, idempotency_key=data.idempotency_key)
    return jsonify(result.answer)


@bp.post("/counter/redemptions/<int:redemption_id>/undo")
@key_required(KeyKind.COUNTER)
def counter_undo(redemption_id: int):
    data = parse(Undo, request.get_json(silent=True))
    actor = counter_actor()
    window = db.session.get(Merchant, actor.merchant_id).undo_window_minutes
    result = service.undo(redemption_id, actor, reason=data.reason, undo_window_minutes=window)
    return jsonify({"redemption": service.redemption_json(result.redemption, with_undo=True),
                    "voucher": service.voucher_json(result.voucher)})


@bp.get("/counter/redemptions")
@key_required(KeyKind.COUNTER)
def counter_today():
    actor = counter_actor()
    rows = service.todays_redemptions(actor.store_id)
    return jsonify({"redemptions": [service.redemption_json(r, with_undo=True) for r in rows],
                    "total_uses": sum(r.uses for r in rows if r.undone_at is None)})
