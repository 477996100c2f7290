"""Payments' background work: send recorded refunds to the provider, close at WeChat the payments closed
here, and sweep up any of either whose message was lost."""
from __future__ import annotations

from datetime import timedelta

from app.core import tasks
from app.core.clock import now_utc
from app.payments import service

STUCK_AFTER = timedelta(minutes=5)


# Retried after 30 s, 1, 2, 4 ... 64 min (backoff), then the stuck-refund sweep keeps trying every 5 minutes
# once a refund has waited that long; every attempt carries the refund's own out_refund_no.
@tasks.task("payments.send_refund", retries=8, retry_delay=30, retry_backoff=2)
def send_refund(refund_id: int) -> str | None:
    """Counts the attempt (committed first, so it counts even if the call blows up), asks the provider
    outside any transaction, then records its answer. The refund number makes a repeat safe."""
    with tasks.transaction():
        go = service.start_refund_attempt(refund_id)
    if not go:
        return None
    try:
        outcome = service.send_refund(refund_id)
    except Exception as exc:
        with tasks.transaction():
            service.note_refund_error(refund_id, str(exc))
        raise  # the queue retries
    with tasks.transaction():
        refund = service.refund_by_id(refund_id)
        return service.apply_refund_result(refund.out_refund_no, outcome.status, detail=outcome.detail).value


@tasks.periodic("payments.retry_stuck_refunds", minute="*/5")
def retry_stuck_refunds() -> int:
    """Catches refunds still pending after their retries, or whose message was lost (a worker died between
    commit and enqueue, the queue was down): each is queued again, until the provider settles it."""
    with tasks.transaction():
        ids = service.stuck_refunds(now_utc() - STUCK_AFTER)
        for refund_id in ids:
            tasks.enqueue("payments.send_refund", refund_id)
    return len(ids)


# Retried after 30 s, 1, 2, 4 ... 16 min; then the sweep below asks again every 5 minutes until WeChat
# answers for good (closed, paid, or a definitive refusal, which is recorded and never asked again).
@tasks.task("payments.close_remote", retries=6, retry_delay=30, retry_backoff=2)
def close_remote(payment_id: int) -> str | None:
    """Closes at WeChat a payment closed here (its order cancelled, its amount out of date, its window
    missed), outside any transaction, then records the answer. Closing twice is harmless."""
    with tasks.transaction():
        due = service.remote_close_due(payment_id) is not None
    if not due:
        return None
    outcome = service.close_remote(payment_id)  # raises on a transient failure: the queue retries
    with tasks.transaction():
        service.apply_close_outcome(payment_id, outcome)
    return outcome.status


@tasks.periodic("payments.close_lost_remote", minute="*/5")
def close_lost_remote() -> int:
    """Catches WeChat payments closed here but not (yet) at WeChat: retries ran out while WeChat was down,
    or the message was lost (a worker died between commit and enqueue, the queue was down)."""
    with tasks.transaction():
        ids = service.lost_remote_closes()
        for payment_id in ids:
            tasks.enqueue("payments.close_remote", payment_id)
    return len(ids)
