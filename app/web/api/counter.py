"""The counter contract for POS systems (store counter key): verify, redeem, undo."""
from __future__ import annotations

from flask import jsonify

from app.merchants.models import KeyKind
from app.vouchers import service
from app.web import counter_actions
from app.web.api import bp
from app.web.api.common import counter_actor, guess_scope
from app.web.auth import key_required


@bp.post("/counter/verify")
@key_required(KeyKind.COUNTER)
def counter_verify():
    actor = counter_actor()
    return jsonify(counter_actions.verify(actor, guess_scope(actor)))


@bp.post("/counter/redeem")
@key_required(KeyKind.COUNTER)
def counter_redeem():
    actor = counter_actor()
    return jsonify(counter_actions.redeem(actor, guess_scope(actor)))


@bp.post("/counter/redemptions/<id:redemption_id>/undo")
@key_required(KeyKind.COUNTER)
def counter_undo(redemption_id: int):
    return jsonify(counter_actions.undo(counter_actor(), redemption_id))


@bp.get("/counter/redemptions")
@key_required(KeyKind.COUNTER)
def counter_today():
    actor = counter_actor()
    rows = service.todays_redemptions(actor.store_id)
    return jsonify({"redemptions": [service.redemption_json(r, with_undo=True) for r in rows],
                    "total_uses": sum(r.uses for r in rows if r.undone_at is None)})
