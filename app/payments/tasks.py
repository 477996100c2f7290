"""Payments' background work: send recorded refunds to the provider, and sweep up any whose message was lost."""
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
