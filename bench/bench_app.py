"""The real app (create_app) plus four baseline endpoints, served as `bench.bench_app:app`.

* GET  /bench/json         a constant JSON answer: the HTTP + Flask ceiling (same hooks: request id,
                           i18n, the commit-on-success after_request, which has nothing to commit).
* POST /bench/bare-select  {code}: one SELECT of the voucher row by code with SQLAlchemy Core, nothing
                           else (no key check, no rate-limit allowance, no ORM): the ceiling for verify.
* POST /bench/bare-update  {code, store_id, idempotency_key}: the conditional UPDATE that takes the use
                           (by code, RETURNING id) plus one INSERT INTO redemptions, one commit, Core
                           only: the database ceiling for redeem.
* POST /bench/bare-claim   {campaign_id, member_id, code}: the conditional increment of the campaign's
                           claimed count (`WHERE claimed < quota`) plus the INSERTs of the voucher and the
                           coupon row, one commit, Core only, no member limits, no checks: the ceiling for
                           a coupon claim (bench.claim).
* GET  /bench/bare-page/<product_id>  ONE query (the product joined with its active SKUs, Core, built
                           once) and a small template file (bench/templates/bare_page.html) through
                           render_template: the ceiling for a server-rendered shop page (bench.shop).

The database baselines use the app's own engine (same pool, same pool_pre_ping), so the difference
to the real endpoints is what the app does on top, not the driver or the pool.
Never mount this in production: the baselines take uses without any key.
"""
from __future__ import annotations

import sys

import sqlalchemy as sa
from flask import Blueprint, abort, jsonify, render_template, request

from app import create_app
from app.core.clock import now_utc
from app.core.errors import ConfigError
from app.catalog.models import Product, Sku
from app.coupons.models import Campaign, Coupon
from app.extensions import db
from app.vouchers.models import Redemption, Voucher
from app.web import csrf

# template_folder is relative to this file: bench/templates (looked up after the app's own templates/).
bp = Blueprint("bench", __name__, url_prefix="/bench", template_folder="templates")
V = Voucher.__table__
R = Redemption.__table__
P = Product.__table__
S = Sku.__table__
_BARE_PAGE = (
    sa.select(P.c.id, P.c.name, P.c.description, S.c.id.label("sku_id"), S.c.name.label("sku_name"),
              S.c.price_fen, S.c.member_price_fen)
    .select_from(P.join(S, sa.and_(S.c.product_id == P.c.id, S.c.active.is_(True))))
    .where(P.c.id == sa.bindparam("product_id"), P.c.active.is_(True))
    .order_by(S.c.id)
)


@bp.get("/json")
def bench_json():
    return jsonify({"ok": True})


@bp.post("/bare-select")
@csrf.exempt  # JSON without cookies, like the API it stands beside
def bare_select():
    code = (request.get_json(silent=True) or {}).get("code", "")
    with db.engine.connect() as conn:
        row = conn.execute(
            sa.select(V.c.id, V.c.merchant_id, V.c.status, V.c.uses_left, V.c.valid_from, V.c.valid_until)
            .where(V.c.code == code)
        ).one_or_none()
    if row is None:
        return jsonify({"error": "not_found"}), 404
    return jsonify({"id": row.id, "status": getattr(row.status, "value", row.status), "uses_left": row.uses_left})


@bp.post("/bare-update")
@csrf.exempt  # JSON without cookies, like the API it stands beside
def bare_update():
    data = request.get_json(silent=True) or {}
    now = now_utc()
    with db.engine.begin() as conn:
        won = conn.execute(
            sa.update(V)
            .where(V.c.code == data.get("code", ""), V.c.status == "issued", V.c.uses_left >= 1)
            .values(uses_left=V.c.uses_left - 1,
                    status=sa.case((V.c.uses_left - 1 == 0, "redeemed"), else_="partly_used"),
                    updated_at=now)
            .returning(V.c.id, V.c.merchant_id, V.c.uses_left, V.c.status)
        ).one_or_none()
        if won is None:
            return jsonify({"error": "not_redeemable"}), 409
        conn.execute(sa.insert(R).values(
            voucher_id=won.id, merchant_id=won.merchant_id, store_id=int(data["store_id"]), uses=1,
            idempotency_key=str(data.get("idempotency_key", ""))[:64], redeemed_at=now, device_id="bench",
            uses_left_after=won.uses_left, status_after=getattr(won.status, "value", won.status),
        ))
    return jsonify({"voucher_id": won.id, "uses_left": won.uses_left, "status": getattr(won.status, "value", won.status)})


C = Campaign.__table__
CP = Coupon.__table__


@bp.post("/bare-claim")
@csrf.exempt  # JSON without cookies, like the API it stands beside
def bare_claim():
    data = request.get_json(silent=True) or {}
    now = now_utc()
    with db.engine.begin() as conn:
        won = conn.execute(sa.update(C).where(C.c.id == int(data["campaign_id"]), C.c.claimed < C.c.quota)
                           .values(claimed=C.c.claimed + 1).returning(C.c.merchant_id)).one_or_none()
        if won is None:
            return jsonify({"error": "sold_out"}), 409
        voucher_id = conn.execute(sa.insert(V).values(
            merchant_id=won.merchant_id, code=str(data["code"])[:16], title="bench", handover="", value_fen=500,
            note="", source="coupon", member_id=int(data["member_id"]), status="issued", uses_total=1, uses_left=1,
            valid_from=now, valid_until=None, all_stores=True, static_qr=False, created_at=now, updated_at=now,
        ).returning(V.c.id)).scalar_one()
        conn.execute(sa.insert(CP).values(merchant_id=won.merchant_id, campaign_id=int(data["campaign_id"]),
                                          voucher_id=voucher_id, member_id=int(data["member_id"]), claimed_at=now))
    return jsonify({"voucher_id": voucher_id})


@bp.get("/bare-page/<int:product_id>")
def bare_page(product_id: int):
    with db.engine.connect() as conn:
        rows = conn.execute(_BARE_PAGE, {"product_id": product_id}).all()
    if not rows:
        abort(404)
    skus = [{"id": r.sku_id, "name": r.sku_name, "price_fen": r.price_fen, "member_price_fen": r.member_price_fen}
            for r in rows]
    return render_template("bare_page.html", product=rows[0], skus=skus)


def make_app():
    app = create_app()
    app.register_blueprint(bp)
    return app


try:
    app = make_app()
except ConfigError as exc:
    sys.stderr.write(f"o2o-store bench: {exc}\n")
    raise SystemExit(1) from None
