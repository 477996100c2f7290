"""Orders' background work: cancel unpaid orders past their time (a message scheduled for each order's
deadline, and a sweep every minute that catches any the messages missed), and complete picked-up orders
once their refund window has closed. Every change inside is a conditional update, so two workers, or a
message and the sweep together, do each thing once."""
from __future__ import annotations

from app.core import logging as applog
from app.core import tasks
from app.core.clock import now_utc
from app.extensions import db
from app.orders import service
from app.orders.models import Order, OrderEventKind, OrderStatus
from app.payments import service as payments
from app.payments.models import PayMethod
from app.payments.providers import provider_for


def cancel_if_expired_now(order_id: int) -> bool:
    """Cancels one unpaid order past its time and returns its stock. For WeChat Pay the provider is asked
    first (its notification may be late): a paid order becomes ready instead. True when it was cancelled."""
    order = db.session.get(Order, order_id)
    if order is None or order.status is not OrderStatus.PENDING_PAYMENT or order.expires_at is None \
            or order.expires_at > now_utc():
        return False
    if order.pay_method is PayMethod.WECHAT:
        provider = provider_for(PayMethod.WECHAT)
        for p in payments.open_payments(order.id):
            outcome = provider.query(p)
            if outcome.paid:
                payments.apply_payment_result(payments.PaymentResult(
                    p.out_trade_no, True, outcome.amount_fen, outcome.transaction_id, outcome.paid_at))
                break
            provider.close(p)
            payments.note_closed_remote(p)  # the local close that follows asks nothing more
        db.session.refresh(order)
    if order.status is not OrderStatus.PENDING_PAYMENT:
        return False
    return service.cancel(order, reason="超时未支付，自动取消", kind=OrderEventKind.EXPIRED)


@tasks.task("orders.cancel_if_expired", retries=3, retry_delay=30)
def cancel_if_expired(order_id: int) -> bool:
    with tasks.transaction():
        return cancel_if_expired_now(order_id)


@tasks.periodic("orders.cancel_expired", minute="*")
def cancel_expired() -> int:
    """The sweep. No huey lock: a lock left by a killed worker would stop it for good, and two workers
    running it at once is safe."""
    done = 0
    with tasks.transaction():
        due = service.expired_unpaid(now_utc())
    for order_id in due:
        try:
            with tasks.transaction():
                done += cancel_if_expired_now(order_id)
        except Exception:
            applog.log.exception("cancelling an expired order failed", extra={"fields": {"order_id": order_id}})
    return done


@tasks.periodic("orders.complete_picked_up", minute="7")
def complete_picked_up() -> int:
    with tasks.transaction():
        return service.complete_picked_up(now_utc())
