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
from app.core import states, tasks
from app.core.database import insert_ignoring_conflict
from app.core.errors import BadRequest, NotFound
from app.extensions import db
from app.payments import signals
from app.payments.providers import provider_for
from app.payments.models import (
    PAYMENT_TRANSITIONS, REFUND_TRANSITIONS, PayMethod, Payment, PaymentStatus, ProcessedNotification, Refund,
    RefundStatus,
)


def _trade_no(prefix: str) -> str:
    return f"{prefix}{to_shanghai(now_utc()):%y%m%d%H%M%S}{secrets.token_hex(6)}"


def open_payment(*, merchant_id: int, order_id: int, provider: PayMethod, amount_fen: int) -> Payment:
    """The payment a pay page uses for `amount_fen` of an order: the open one for that amount, or a new one
    (after a failed attempt). The order decides what is due; an order may carry several payments (a
    pre-sale's deposit and balance), each its own row."""
    existing = db.session.execute(
        sa.select(Payment).where(Payment.order_id == order_id, Payment.status == PaymentStatus.CREATED,
                                 Payment.amount_fen == amount_fen, Payment.provider == provider)
        .order_by(Payment.id.desc()).limit(1)
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    payment = Payment(merchant_id=merchant_id, order_id=order_id, provider=provider,
                      out_trade_no=_trade_no("P"), amount_fen=amount_fen, status=PaymentStatus.CREATED,
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
    """Moves the payment once and tells whoever listens (`signals.paid`, `signals.failed`): the order it
    belongs to reacts (ready, or refunded when it was cancelled meanwhile). A repeat changes nothing."""
    payment = by_trade_no(result.out_trade_no)
    now = now_utc()
    if not result.succeeded:
        if payment.status is PaymentStatus.CREATED and states.transition(payment, PaymentStatus.FAILED, PAYMENT_TRANSITIONS):
            signals.failed.send(payment, now=now)
        return payment
    if result.amount_fen is not None and result.amount_fen != payment.amount_fen:
        applog.event("payment amount mismatch", level=40, out_trade_no=payment.out_trade_no,
                     expected=payment.amount_fen, got=result.amount_fen)
        raise AmountMismatch()
    if payment.status is PaymentStatus.PAID:
        return payment  # a repeated notification
    if not states.transition(payment, PaymentStatus.PAID, PAYMENT_TRANSITIONS,
                             transaction_id=result.transaction_id, paid_at=result.paid_at or now):
        return payment  # another worker applied it first
    signals.paid.send(payment, now=now)
    return payment


def record_collection(*, merchant_id: int, order_id: int, amount_fen: int, now: datetime) -> Payment:
    """Pay-at-store: the counter took the money when it redeemed the pickup voucher. Recorded by the order
    that took it, so no signal goes out."""
    payment = Payment(merchant_id=merchant_id, order_id=order_id, provider=PayMethod.STORE,
                      out_trade_no=_trade_no("S"), amount_fen=amount_fen,
                      status=PaymentStatus.PAID, paid_at=now, created_at=now)
    db.session.add(payment)
    db.session.flush()
    return payment


def return_collection(*, order_id: int, now: datetime) -> Payment | None:
    """Undoing a pay-at-store pickup: the money collected with it goes back at the counter, recorded as a
    refund of that collection (succeeded at once) and the collection closed."""
    payment = db.session.execute(
        sa.select(Payment).where(Payment.order_id == order_id, Payment.provider == PayMethod.STORE,
                                 Payment.status == PaymentStatus.PAID)
        .order_by(Payment.id.desc()).limit(1)).scalar_one_or_none()
    if payment is None or not states.transition(payment, PaymentStatus.CLOSED, PAYMENT_TRANSITIONS,
                                                where=[Payment.provider == PayMethod.STORE]):
        return None
    db.session.add(Refund(merchant_id=payment.merchant_id, payment_id=payment.id, order_id=order_id,
                          out_refund_no=_trade_no("R"), amount_fen=payment.amount_fen, reason="撤销核销，现金退还",
                          status=RefundStatus.SUCCEEDED, attempts=0, created_at=now, succeeded_at=now))
    db.session.flush()
    return payment


def open_payments(order_id: int) -> list[Payment]:
    return list(db.session.execute(sa.select(Payment).where(
        Payment.order_id == order_id, Payment.status == PaymentStatus.CREATED).order_by(Payment.id)).scalars())


def close_open_payments(order_id: int) -> None:
    """Closes the order's open payments here; a WeChat one is closed at WeChat too, after the commit, by
    the `payments.close_remote` task (retried; a sweep finds any whose message was lost), so the payer can
    no longer pay it there."""
    for payment in open_payments(order_id):
        remote = payment.provider is PayMethod.WECHAT and payment.closed_remote_at is None
        if states.transition(payment, PaymentStatus.CLOSED, PAYMENT_TRANSITIONS) and remote:
            tasks.enqueue("payments.close_remote", payment.id)


def note_closed_remote(payment: Payment) -> None:
    """The caller closed the payment at its provider itself (an expired order's job asks WeChat first):
    the local close that follows has nothing left to ask."""
    payment.closed_remote_at = now_utc()
    db.session.flush()


def remote_close_due(payment_id: int) -> Payment | None:
    """The payment if it is closed here and its close at WeChat is still to do, else None."""
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.provider is not PayMethod.WECHAT or payment.status is not PaymentStatus.CLOSED \
            or payment.closed_remote_at is not None or payment.remote_close_error is not None:
        return None
    return payment


def close_remote(payment_id: int):
    """Asks the provider to close a payment closed here (no database write). Raises on a transient failure."""
    payment = db.session.get(Payment, payment_id)
    return provider_for(payment.provider).close_remote(payment)


def apply_close_outcome(payment_id: int, outcome) -> None:
    """Records what the provider said. Paid at WeChat just before the close: the payment result goes the one
    way every payment goes (`apply_payment_result`), and its order refunds what it can no longer take."""
    done = [Payment.id == payment_id, Payment.closed_remote_at.is_(None), Payment.remote_close_error.is_(None)]
    if outcome.status == "refused":
        applog.event("payment not closed at the provider", level=40, payment_id=payment_id, detail=outcome.detail)
        values = {"remote_close_error": outcome.detail[:255] or "refused"}
    else:
        if outcome.status == "paid":
            payment = db.session.get(Payment, payment_id)
            q = outcome.paid
            apply_payment_result(PaymentResult(payment.out_trade_no, True, q.amount_fen, q.transaction_id, q.paid_at))
        values = {"closed_remote_at": now_utc()}
    db.session.execute(sa.update(Payment).where(*done).values(**values).execution_options(synchronize_session=False))


def lost_remote_closes(limit: int = 100) -> list[int]:
    """WeChat payments closed here whose close at WeChat is neither done nor refused."""
    return list(db.session.execute(sa.select(Payment.id).where(
        Payment.provider == PayMethod.WECHAT, Payment.status == PaymentStatus.CLOSED,
        Payment.closed_remote_at.is_(None), Payment.remote_close_error.is_(None)).order_by(Payment.id).limit(limit))
        .scalars())


def paid_payments(order_id: int) -> list[Payment]:
    return list(db.session.execute(
        sa.select(Payment).where(Payment.order_id == order_id, Payment.status == PaymentStatus.PAID)
        .order_by(Payment.id)).scalars())


def kept_fen(order_id: int) -> int:
    """What the order's paid payments brought and keep: their amounts less every refund of them not refused
    (a refund of the order's goods, or a payment the order could not take, sent back whole). One query."""
    returned = (sa.select(sa.func.coalesce(sa.func.sum(Refund.amount_fen), 0))
                .where(Refund.payment_id == Payment.id, Refund.status != RefundStatus.FAILED).scalar_subquery())
    return db.session.execute(sa.select(sa.func.coalesce(sa.func.sum(Payment.amount_fen - returned), 0)).where(
        Payment.order_id == order_id, Payment.status == PaymentStatus.PAID)).scalar()


def refundable_fen(payment: Payment) -> int:
    """What is left of a payment to refund: its amount less every refund of it not refused."""
    taken = db.session.execute(sa.select(sa.func.coalesce(sa.func.sum(Refund.amount_fen), 0)).where(
        Refund.payment_id == payment.id, Refund.status != RefundStatus.FAILED)).scalar()
    return payment.amount_fen - taken


def request_refund(*, merchant_id: int, order_id: int, amount_fen: int, reason: str,
                   payment: Payment | None = None) -> list[Refund]:
    """Records refunds for `amount_fen` of an order's paid money, latest payment first (an order may carry
    several: a pre-sale's deposit and balance), each no more than what is left of its payment. The money
    moves after the commit, by the `payments.send_refund` task with retries; a sweep re-sends any whose
    message was lost."""
    if amount_fen <= 0:
        raise BadRequest(field="amount_fen", zh="退款金额须大于 0。", en="The refund must be more than 0.")
    sources_ = [payment] if payment is not None else list(reversed(paid_payments(order_id)))
    refunds, left = [], amount_fen
    for p in sources_:
        part = min(left, refundable_fen(p))
        if part <= 0:
            continue
        refund = Refund(merchant_id=merchant_id, payment_id=p.id, order_id=order_id, out_refund_no=_trade_no("R"),
                        amount_fen=part, reason=reason[:255], status=RefundStatus.PENDING, created_at=now_utc())
        db.session.add(refund)
        db.session.flush()
        tasks.enqueue("payments.send_refund", refund.id)
        refunds.append(refund)
        left -= part
        if left == 0:
            break
    if left:
        raise BadRequest(field="amount_fen", zh="退款金额超过已支付金额。", en="The refund is more than was paid.")
    return refunds


# WeChat's refund status ABNORMAL (the payer's bank card was closed or frozen): the refund still exists at
# WeChat, holding the money, and is finished in the merchant platform (to the payer's change or another
# account). Asking anew would pay twice. Every other failure recorded is a definitive "no": WeChat's status
# CLOSED (closed, nothing moved) or a refused request (an error code: no refund was made under that number).
ABNORMAL = "ABNORMAL"


def retried(refund_ids: list[int]) -> set[int]:
    """Which of these refunds a person has asked again for (a newer refund names it)."""
    if not refund_ids:
        return set()
    return set(db.session.execute(sa.select(Refund.retry_of_id).where(Refund.retry_of_id.in_(refund_ids))).scalars())


def may_retry(refund: Refund, *, retried_already: bool) -> bool:
    """Whether a person may ask again for this refund (the console shows 重试退款 for it)."""
    if refund.status is RefundStatus.PENDING:
        return True
    return refund.status is RefundStatus.FAILED and not retried_already \
        and not (refund.last_error or "").startswith(ABNORMAL)


class AlreadyRetried(BadRequest):
    zh = "这笔退款已重新发起过。"
    en = "This refund was sent again already."


def retry_refund(refund: Refund) -> Refund:
    """A person asks again, whatever the refund was for (an order, a pre-sale deposit, a group-buy seat).
    A pending one is sent again now under its own number (the provider makes a repeat safe). One the provider
    refused for good is sent again as a new refund of the same amount (no more than what is left of its
    payment) under a NEW number, once; the refused one stays, for the record. Returns the refund sent."""
    if refund.status is RefundStatus.PENDING:
        tasks.enqueue("payments.send_refund", refund.id)
        return refund
    if refund.status is not RefundStatus.FAILED:
        raise BadRequest(field="refund", zh="这笔退款已在处理或已完成。", en="This refund is on its way or done.")
    if (refund.last_error or "").startswith(ABNORMAL):
        raise BadRequest(field="refund", zh="微信支付退款异常（如用户银行卡已注销），请在微信支付商户平台处理这笔退款，不能重新发起。",
                         en="WeChat Pay holds this refund as abnormal (e.g. the payer's card was closed): finish it "
                            "in the WeChat Pay merchant platform; it cannot be sent again.")
    if retried([refund.id]):
        raise AlreadyRetried(field="refund")
    amount = min(refund.amount_fen, refundable_fen(refund.payment))
    if amount <= 0:
        if retried([refund.id]):  # sent again by someone else since we looked
            raise AlreadyRetried(field="refund")
        raise BadRequest(field="refund", zh="这笔支付已无可退金额。", en="Nothing is left to refund of this payment.")
    new = Refund(merchant_id=refund.merchant_id, payment_id=refund.payment_id, order_id=refund.order_id,
                 out_refund_no=_trade_no("R"), amount_fen=amount, reason=refund.reason, status=RefundStatus.PENDING,
                 created_at=now_utc(), retry_of_id=refund.id)
    try:
        with db.session.begin_nested():  # two people asking at once: the unique retry_of_id lets one through
            db.session.add(new)
            db.session.flush()
    except sa.exc.IntegrityError:
        raise AlreadyRetried(field="refund") from None
    tasks.enqueue("payments.send_refund", new.id)
    return new


def start_refund_attempt(refund_id: int) -> bool:
    """Counts an attempt to send a refund; False when there is nothing (more) to send."""
    moved = db.session.execute(
        sa.update(Refund).where(Refund.id == refund_id, Refund.status == RefundStatus.PENDING)
        .values(attempts=Refund.attempts + 1).execution_options(synchronize_session=False)).rowcount
    return moved == 1


def send_refund(refund_id: int):
    """Asks the provider to move the money (no database write). Raises on a transient failure."""
    refund = db.session.get(Refund, refund_id)
    return provider_for(refund.payment.provider).refund(refund, refund.payment)


def note_refund_error(refund_id: int, error: str) -> None:
    db.session.execute(sa.update(Refund).where(Refund.id == refund_id).values(last_error=error[:255])
                       .execution_options(synchronize_session=False))


def apply_refund_result(out_refund_no: str, status: str, *, detail: str = "") -> RefundStatus:
    refund = db.session.execute(sa.select(Refund).where(Refund.out_refund_no == out_refund_no)).scalar_one_or_none()
    if refund is None:
        raise NotFound(zh="没有这笔退款。", en="No such refund.")
    target = {"succeeded": RefundStatus.SUCCEEDED, "processing": RefundStatus.PROCESSING,
              "failed": RefundStatus.FAILED}[status]
    if refund.status is target or not states.allowed(REFUND_TRANSITIONS, refund.status, target):
        return refund.status  # a repeat, or a late word about a refund already settled
    values = {}
    if target is RefundStatus.SUCCEEDED:
        values["succeeded_at"] = now_utc()
    if target is RefundStatus.FAILED:
        values["last_error"] = detail[:255]
        applog.event("refund failed for good", level=40, out_refund_no=out_refund_no, detail=detail)
    if states.transition(refund, target, REFUND_TRANSITIONS, **values) and target is RefundStatus.SUCCEEDED:
        signals.refunded.send(refund, now=now_utc())
    return refund.status


def stuck_refunds(older_than: datetime) -> list[int]:
    return list(db.session.execute(sa.select(Refund.id).where(
        Refund.status == RefundStatus.PENDING, Refund.created_at <= older_than).order_by(Refund.id).limit(100)).scalars())


def refunds_of(order_id: int) -> list[Refund]:
    return list(db.session.execute(sa.select(Refund).where(Refund.order_id == order_id).order_by(Refund.id)).scalars())


def refund_by_id(refund_id: int) -> Refund:
    return db.session.get(Refund, refund_id)
