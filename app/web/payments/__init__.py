"""Payment front doors: the sandbox pay page (embedded default) and WeChat Pay notifications.

Both end in `payments.service.apply_payment_result`, the one path by which a payment becomes paid."""
from __future__ import annotations

import secrets

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for

from app.core import logging as applog
from app.core.clock import now_utc
from app.core.database import commit
from app.core.i18n import N_
from app.extensions import db
from app.orders.models import Order
from app.payments.models import PayMethod
from app.orders import handover
from app.payments import service as payments
from app.payments.models import PaymentStatus
from app.payments.providers import provider_for, wechat_configured

bp = Blueprint("payments", __name__)

PAYMENT_FAILED = N_("支付未成功，可以重新支付")  # shown on the order page the payer comes back to


@bp.before_request
def _sandbox_only_outside_production():
    # In production the simulated payer does not exist: anyone could "pay" any order with it.
    if request.endpoint in ("payments.sandbox_page", "payments.sandbox_confirm") and \
            not current_app.config["SANDBOX_PAYMENTS"]:
        abort(404)


@bp.get("/pay/sandbox/<out_trade_no>")
def sandbox_page(out_trade_no: str):
    payment = payments.by_trade_no(out_trade_no)
    if payment.provider is not PayMethod.SANDBOX:
        abort(404)
    order = db.session.get(Order, payment.order_id)
    return render_template("payments/sandbox.html", payment=payment, order=order)


@bp.post("/pay/sandbox/<out_trade_no>")
def sandbox_confirm(out_trade_no: str):
    """The simulated payer pressed 'pay' or 'fail'. Goes through the same path as a real notification."""
    payment = payments.by_trade_no(out_trade_no)
    if payment.provider is not PayMethod.SANDBOX:
        abort(404)
    succeeded = request.form.get("result") == "success"
    if payment.status is PaymentStatus.CREATED or succeeded:
        payment = payments.apply_payment_result(payments.PaymentResult(
            out_trade_no, succeeded, amount_fen=payment.amount_fen if succeeded else None,
            transaction_id=f"SANDBOX{secrets.token_hex(8).upper()}" if succeeded else None, paid_at=now_utc()))
        if payment.status is PaymentStatus.FAILED:
            flash(PAYMENT_FAILED)
    return redirect(url_for("shop.order_page", order_id=payment.order_id))


@bp.post("/webhooks/wechatpay/<kind>")
def wechat_notify(kind: str):
    """WeChat Pay v3 notification: verified (signature, 5-minute timestamp), decrypted, processed once per
    notification id. Answers 200 with an empty body on success; 4xx makes WeChat retry."""
    from app.integrations.wechat import NotificationRejected
    from app.payments.providers import wechat_client

    if not wechat_configured(current_app.config) or kind not in ("payment", "refund"):
        abort(404)
    try:
        note = wechat_client().parse_notification(request.headers, request.get_data())
    except NotificationRejected as exc:
        applog.event("wechat pay notification rejected", level=30, reason=exc.reason, kind=kind)
        return jsonify({"code": "FAIL", "message": exc.reason}), 401
    if not payments.claim_notification("wechat", note.id, note.event_type):
        return "", 204  # already processed: a redelivery
    resource = note.resource
    if note.event_type.startswith("TRANSACTION."):
        payments.apply_payment_result(payments.PaymentResult(
            resource["out_trade_no"], resource.get("trade_state") == "SUCCESS",
            amount_fen=(resource.get("amount") or {}).get("total"), transaction_id=resource.get("transaction_id"),
            paid_at=_time(resource.get("success_time"))))
    elif note.event_type.startswith("REFUND."):
        status = {"SUCCESS": "succeeded", "CLOSED": "failed", "ABNORMAL": "failed"}.get(
            resource.get("refund_status"), "processing")
        payments.apply_refund_result(resource["out_refund_no"], status, detail=resource.get("refund_status", ""))
    return "", 204


def _time(value):
    from datetime import datetime

    return datetime.fromisoformat(value) if value else None


def checkout_for(order: Order, member):
    """Opens (or reuses) the order's payment and asks its provider how the page should pay. Call after
    the order is committed: WeChat is asked outside any write transaction."""
    payment = handover.open_payment(order)
    commit()
    return payment, provider_for(order.pay_method).checkout(payment, order, member)
