"""Issuing vouchers from other systems (merchant key)."""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from flask import current_app, g, jsonify, request, url_for

from app.core.clock import parse_instant
from app.core.database import rollback
from app.core.errors import BadRequest
from app.core.schemas import parse
from app.extensions import db
from app.merchants.models import KeyKind
from app.vouchers import service
from app.vouchers.errors import VoucherNotFound
from app.vouchers.links import holder_url, qr_content, qr_token
from app.vouchers.models import Voucher, VoucherSource
from app.vouchers.schemas import IssueVoucher, Revoke
from app.web.api import bp
from app.web.api.common import merchant
from app.web.auth import key_required


# Validity is kept within these years: far enough for any voucher, and date arithmetic on it (valid_days,
# the end of a day) never leaves what datetime can hold.
EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=timezone.utc), datetime(3000, 1, 1, tzinfo=timezone.utc)


def _instant(value: str | None, field: str, *, end_of_date: bool = False):
    if value is None:
        return None
    try:
        instant = parse_instant(value, end_of_date=end_of_date)
    except (ValueError, OverflowError):
        raise BadRequest(field=field, zh=f"{field} 不是 ISO-8601 时间。", en=f"{field} is not ISO-8601.") from None
    if not EARLIEST <= instant < LATEST:
        raise BadRequest(field=field, zh=f"{field} 须在 2000 年至 2999 年之间。",
                         en=f"{field} must be in the years 2000 to 2999.")
    return instant


def issued_json(voucher: Voucher) -> dict:
    token = qr_token(voucher, rotating=False)
    body = service.voucher_json(voucher)
    body["reference"] = voucher.source_ref
    body.update(
        token=token,
        qr_content=qr_content(token),
        qr_url=current_app.config["APP_BASE_URL"] + url_for("shop.qr_png", token=token),
        holder_url=holder_url(voucher),
    )
    return body


@bp.post("/vouchers")
@key_required(KeyKind.MERCHANT)
def issue_voucher():
    data = parse(IssueVoucher, request.get_json(silent=True))
    data.reference = data.reference or None  # an empty reference is no reference
    if data.reference:
        # The issuing system's reference makes a retried issue return the first voucher (200), not a twin.
        earlier = service.by_reference(g.principal.merchant_id, VoucherSource.API, data.reference)
        if earlier is not None:
            return jsonify(issued_json(earlier)), 200
    try:
        voucher = service.issue(
            merchant(), title=data.title, handover=data.handover or "", source=VoucherSource.API,
            uses=data.uses, min_interval_seconds=data.min_interval_seconds,
            valid_from=_instant(data.valid_from, "valid_from"),
            valid_until=_instant(data.valid_until, "valid_until", end_of_date=True),
            valid_days=data.valid_days, store_ids=data.store_ids, value_fen=data.value_fen,
            note=data.note or "", source_ref=data.reference, static_qr=True, api_key_id=g.principal.key_id,
        )
    except sa.exc.IntegrityError:
        # The same reference issued concurrently: the unique constraint let one through; answer with it.
        rollback()
        earlier = service.by_reference(g.principal.merchant_id, VoucherSource.API, data.reference or "")
        if earlier is None:
            raise
        return jsonify(issued_json(earlier)), 200
    return jsonify(issued_json(voucher)), 201


def _own_voucher(voucher_id: int) -> Voucher:
    voucher = db.session.get(Voucher, voucher_id)
    if voucher is None or voucher.merchant_id != g.principal.merchant_id:
        raise VoucherNotFound()
    return voucher


@bp.get("/vouchers/<id:voucher_id>")
@key_required(KeyKind.MERCHANT)
def get_voucher(voucher_id: int):
    voucher = _own_voucher(voucher_id)
    # Only printed (static) vouchers have a token that never goes stale; a shop voucher's QR rotates.
    return jsonify(issued_json(voucher) if voucher.static_qr else service.voucher_json(voucher))


@bp.post("/vouchers/<id:voucher_id>/revoke")
@key_required(KeyKind.MERCHANT)
def revoke_voucher(voucher_id: int):
    data = parse(Revoke, request.get_json(silent=True))
    voucher = service.revoke(_own_voucher(voucher_id), reason=data.reason, api_key_id=g.principal.key_id)
    return jsonify(service.voucher_json(voucher))
