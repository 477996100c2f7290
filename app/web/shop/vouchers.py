"""Voucher pages for whoever holds one: the holder's page with a refreshing QR, and the page a scanned
QR opens (which shows only what the voucher is, never its code)."""
from __future__ import annotations

from flask import Response, current_app, render_template, request

from app.core.clock import now_utc
from app.core.errors import DomainError
from app.extensions import db
from app.merchants.models import Merchant
from app.vouchers import codes, qr
from app.vouchers.errors import VoucherNotFound
from app.vouchers.links import qr_content, qr_token
from app.vouchers.models import Voucher
from app.vouchers.service import effective_status
from app.vouchers.tokens import read_holder_token, read_qr_token
from app.web.shop import bp


def _holder_voucher(holder: str) -> Voucher:
    voucher = db.session.get(Voucher, read_holder_token(current_app.config["SECRET_KEY"], holder))
    if voucher is None:
        raise VoucherNotFound()
    return voucher


def _image(body: bytes, mimetype: str, *, immutable: bool) -> Response:
    response = Response(body, mimetype=mimetype)
    if immutable:
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    else:
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/qr/<token>.png")
def qr_png(token: str):
    """A static (printed) voucher's QR: the image is made once per worker and cached by browsers."""
    read_qr_token(current_app.config["SECRET_KEY"], token, max_age=current_app.config["QR_MAX_AGE_SECONDS"])
    return _image(qr.cached_png(qr_content(token)), "image/png", immutable=True)


@bp.get("/qr/<token>.svg")
def qr_svg(token: str):
    read_qr_token(current_app.config["SECRET_KEY"], token, max_age=current_app.config["QR_MAX_AGE_SECONDS"])
    return _image(qr.cached_svg(qr_content(token)), "image/svg+xml", immutable=True)


@bp.get("/w/<holder>")
def holder_page(holder: str):
    voucher = _holder_voucher(holder)
    merchant = db.session.get(Merchant, voucher.merchant_id)
    stores = [s for s in merchant.stores if voucher.all_stores or s.id in voucher.store_ids]
    return render_template(
        "shop/voucher.html", voucher=voucher, merchant=merchant, stores=stores, holder=holder,
        status=effective_status(voucher, now_utc()), pretty_code=codes.pretty(voucher.code),
        # The phone's QR rotates whenever the merchant wants rotation, even for a voucher that also has a
        # printed (static) token: a screenshot of the phone must go stale.
        rotating=merchant.rotate_qr,
        rotate_seconds=current_app.config["QR_ROTATE_SECONDS"],
    )


@bp.get("/w/<holder>/qr.svg")
def holder_qr(holder: str):
    """A fresh rotating QR, made only when the phone asks for the next one."""
    voucher = _holder_voucher(holder)
    merchant = db.session.get(Merchant, voucher.merchant_id)
    rotating = merchant.rotate_qr
    token = qr_token(voucher, rotating=rotating)
    body = qr.svg(qr_content(token)) if rotating else qr.cached_svg(qr_content(token))
    return _image(body, "image/svg+xml", immutable=False)


@bp.get("/v/<token>")
def scanned(token: str):
    """Opened when someone scans a voucher QR with their phone: says what it is and that the cashier
    scans it; reveals no code."""
    error = None
    voucher = None
    try:
        parsed = read_qr_token(current_app.config["SECRET_KEY"], token, max_age=10**9)
        voucher = db.session.get(Voucher, parsed.voucher_id)
        if voucher is None:
            raise VoucherNotFound()
    except DomainError as exc:
        error = exc.message("en" if request.args.get("lang") == "en" else "zh")
    merchant = db.session.get(Merchant, voucher.merchant_id) if voucher else None
    return render_template("shop/scanned.html", voucher=voucher, merchant=merchant, error=error,
                           status=effective_status(voucher, now_utc()) if voucher else None)
