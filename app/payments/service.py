"""Payments and refunds as state machines.

* `apply_payment_result` is the one path by which a payment becomes paid: a verified WeChat notification,
  a query after a late notification, and the sandbox page all go through it. A repeat changes nothing.
* Refunds are recorded inside the order's transaction and sent to the provider after the commit, by a
  job with retries (`process_refund`), so a failed call is never lost with a rolled-back transaction.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.core import logging as applog
from app.core.clock import now_utc, to_shanghai
from app.core.database import defer, insert_ignoring_conflict
from app.core.errors import BadRequest, NotFound
from app.extensions import db
from app.orders.models import Order, OrderStatus, PayMethod
from app.payments.models import (
    PAYMENT_TRANSITIONS, Payment, PaymentStatus, ProcessedNotification, Refund, RefundStatus,
)


def _trade_no(prefix: str) -> str:
    return f"{prefix}{to_shanghai(now_utc()):%y%m%d%H%M%S}{secrets.token_hex(6)}"


def open_payment(order: Order) -> Payment:
    """The payment the order's pay page uses: the open one, or a new one (after a failed attempt)."""
    if order.status is not OrderStatus.PENDING_PAYMENT:
        raise BadRequest(field="order", zh="订单无需支付。", en="This order needs no payment.")
    existing = db.session.execute(
        sa.select(Payment).where(Payment.order_id == order.id, Payment.status == PaymentStatus.CREATED)
        .order_by(Payment.id.desc()).limit(1)
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    payment = Payment(merchant_id=order.merchant_id, order_id=order.id, provider=order.pay_method,
                      out_trade_no=_trade_no("P"), amount_fen=order.total_fen, status=PaymentStatus.CREATED,
                      created_at=now_utc())
    db.session.add(payment)
    db.session.flush()
    return payment


def by_trade_no(out_trade_no: str) -> Payment:
    payment = db.session.execute(sa.select(Payment).where(Payment.out_trade_no == out_trade_no)).scalar_one_or_none()
    if payment is None:
        raise NotFound(zh="没有这笔支付。", en="No such payment.")
    return payment


def claim_notification(provider: str, notification_id: str, event_type: str) -> bool:
    """True the first time a notification id is seen; False for a redelivery."""
    return db.session.execute(insert_ignoring_conflict(ProcessedNotification, dict(
        provider=provider, notification_id=notification_id[:64], event_type=event_type[:48], received_at=now_utc(),
    ), ["provider", "notification_id"]).returning(ProcessedNotification.id)).scalar() is not None


@dataclass(frozen=True)
class PaymentResult:
    out_trade_no: str
    succeeded: bool
    amount_fen: int | None = None
    transaction_id: str | None = None
    paid_at: datetime | None = None


class AmountMismatch(BadRequest):
    code = "amount_mismatch"
    zh = "支付金额与订单不符。"
    en = "The paid amount does not match the order."


def apply_payment_result(result: PaymentResult) -> Payment:
    """Moves the payment (and its order) once. Late successes after a cancel are refunded automatically."""
    from app.orders import service as orders

    payment = by_trade_no(result.out_trade_no)
    now = now_utc()
    if not result.succeeded:
        db.session.execute(sa.update(Payment).where(Payment.id == payment.id, Payment.status == PaymentStatus.CREATED)
                           .values(status=PaymentStatus.FAILED).execution_options(synchronize_session=False))
        db.session.expire(payment)
        return payment
    if result.amount_fen is not None and result.amount_fen != payment.amount_fen:
        applog.event("payment amount mismatch", level=40, out_trade_no=payment.out_trade_no,
                     expected=payment.amount_fen, got=result.amount_fen)
        raise AmountMismatch()
    allowed = [s for s, targets in PAYMENT_TRANSITIONS.items() if PaymentStatus.PAID in targets]
    moved = db.session.execute(
        sa.update(Payment).where(Payment.id == payment.id, Payment.status.in_(allowed))
        .values(status=PaymentStatus.PAID, transaction_id=result.transaction_id, paid_at=result.paid_at or now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.expire(payment)
    if not moved:
        return payment  # already paid: a repeated notification
    order = db.session.get(Order, payment.order_id)
    if not orders.on_paid(order, amount_fen=payment.amount_fen, now=now):
        # Paid, but the order was cancelled meanwhile (or paid twice): every fen goes back.
        applog.event("payment for a closed order refunded", level=30, order_id=order.id,
                     out_trade_no=payment.out_trade_no)
        request_refund(order, amount_fen=payment.amount_fen, reason="订单已取消，自动退款", payment=payment)
    return payment


def collected_at_store(order: Order, *, now: datetime) -> Payment:
    """Pay-at-store: the counter took the money when it redeemed the pickup voucher."""
    payment = Payment(merchant_id=order.merchant_id, order_id=order.id, provider=PayMethod.STORE,
                      out_trade_no=_trade_no("S"), amount_fen=order.total_fen - order.refunded_fen,
                      status=PaymentStatus.PAID, paid_at=now, created_at=now)
    db.session.add(payment)
    db.session.execute(sa.update(Order).where(Order.id == order.id, Order.paid_at.is_(None)).values(paid_at=now)
                       .execution_options(synchronize_session=False))
    db.session.flush()
    return payment


def return_collection(order: Order, *, now: datetime) -> Payment | None:
    """Undoing a pay-at-store pickup: the money collected with it goes back at the counter, recorded as a
    refund of that collection, and the order is due again."""
    payment = db.session.execute(
        sa.select(Payment).where(Payment.order_id == order.id, Payment.provider == PayMethod.STORE,
                                 Payment.status == PaymentStatus.PAID)
        .order_by(Payment.id.desc()).limit(1)).scalar_one_or_none()
    if payment is None:
        return None
    db.session.add(Refund(merchant_id=order.merchant_id, payment_id=payment.id, order_id=order.id,
                          out_refund_no=_trade_no("R"), amount_fen=payment.amount_fen, reason="撤销核销，现金退还",
                          status=RefundStatus.SUCCEEDED, attempts=0, created_at=now, succeeded_at=now))
    db.session.execute(sa.update(Payment).where(Payment.id == payment.id).values(status=PaymentStatus.CLOSED)
                       .execution_options(synchronize_session=False))
    db.session.execute(sa.update(Order).where(Order.id == order.id).values(paid_at=None)
                       .execution_options(synchronize_session=False))
    db.session.expire(order)
    db.session.flush()
    return payment


def open_payments(order: Order) -> list[Payment]:
    return list(db.session.execute(sa.select(Payment).where(
        Payment.order_id == order.id, Payment.status == PaymentStatus.CREATED).order_by(Payment.id)).scalars())


def close_open_payments(order: Order) -> None:
    db.session.execute(sa.update(Payment).where(Payment.order_id == order.id, Payment.status == PaymentStatus.CREATED)
                       .values(status=PaymentStatus.CLOSED).execution_options(synchronize_session=False))


def paid_payment(order: Order) -> Payment | None:
    return db.session.execute(
        sa.select(Payment).where(Payment.order_id == order.id, Payment.status == PaymentStatus.PAID)
        .order_by(Payment.id).limit(1)).scalar_one_or_none()


def request_refund(order: Order, *, amount_fen: int, reason: str, payment: Payment | None = None) -> Refund:
    payment = payment or paid_payment(order)
    if payment is None:
        raise BadRequest(field="order", zh="订单没有已支付的款项。", en="Nothing was paid for this order.")
    refund = Refund(merchant_id=order.merchant_id, payment_id=payment.id, order_id=order.id,
                    out_refund_no=_trade_no("R"), amount_fen=amount_fen, reason=reason[:255],
                    status=RefundStatus.PENDING, created_at=now_utc())
    db.session.add(refund)
    db.session.flush()
    refund_id = refund.id

    def enqueue():
        from app import jobs

        jobs.process_refund(refund_id)

    defer(enqueue)
    return refund


def process_refund(refund_id: int) -> RefundStatus:
    """Asks the provider to move the money. Runs in a job, outside the transaction that recorded the
    refund; the provider's refund number makes a repeat safe. Raises on a transient failure so the job
    retries."""
    from app.payments.providers import provider_for

    refund = db.session.get(Refund, refund_id)
    if refund is None or refund.status not in (RefundStatus.PENDING, RefundStatus.PROCESSING):
        return refund.status if refund else RefundStatus.FAILED
    payment = refund.payment
    db.session.execute(sa.update(Refund).where(Refund.id == refund_id).values(attempts=Refund.attempts + 1)
                       .execution_options(synchronize_session=False))
    db.session.commit()  # the attempt is counted even if the call below blows up
    try:
        outcome = provider_for(payment.provider).refund(refund, payment)
    except Exception as exc:
        db.session.execute(sa.update(Refund).where(Refund.id == refund_id).values(last_error=str(exc)[:255])
                           .execution_options(synchronize_session=False))
        db.session.commit()
        raise
    return apply_refund_result(refund.out_refund_no, outcome.status, detail=outcome.detail)


def apply_refund_result(out_refund_no: str, status: str, *, detail: str = "") -> RefundStatus:
    refund = db.session.execute(sa.select(Refund).where(Refund.out_refund_no == out_refund_no)).scalar_one_or_none()
    if refund is None:
        raise NotFound(zh="没有这笔退款。", en="No such refund.")
    target = {"succeeded": RefundStatus.SUCCEEDED, "processing": RefundStatus.PROCESSING,
              "failed": RefundStatus.FAILED}[status]
    values = {"status": target}
    if target is RefundStatus.SUCCEEDED:
        values["succeeded_at"] = now_utc()
    if target is RefundStatus.FAILED:
        values["last_error"] = detail[:255]
        applog.event("refund failed for good", level=40, out_refund_no=out_refund_no, detail=detail)
    db.session.execute(
        sa.update(Refund).where(Refund.id == refund.id,
                                Refund.status.in_([RefundStatus.PENDING, RefundStatus.PROCESSING]))
        .values(**values).execution_options(synchronize_session=False))
    db.session.expire(refund)
    return refund.status


def stuck_refunds(older_than: datetime) -> list[int]:
    return list(db.session.execute(sa.select(Refund.id).where(
        Refund.status == RefundStatus.PENDING, Refund.created_at <= older_than).order_by(Refund.id).limit(100)).scalars())


def refunds_of(order: Order) -> list[Refund]:
    return list(db.session.execute(sa.select(Refund).where(Refund.order_id == order.id).order_by(Refund.id)).scalars())
