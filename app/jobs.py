"""Scheduled and background work on Huey: a real queue with retries and periodic tasks.

Storage: Redis when REDIS_URL is set (production, shared by every machine), else SQLite in instance/
(the embedded default). Run workers with `huey_consumer app.jobs.huey` (see README). Every job is
idempotent: each state change inside is a conditional update, so running a job twice, or on two
workers at once, does the work once.

This module is imported lazily (by the consumer, and when work is enqueued), never by `create_app`.
"""
from __future__ import annotations

import contextlib
import os
from datetime import timedelta
from pathlib import Path

from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab

ROOT = Path(__file__).resolve().parent.parent


def _make_huey():
    if os.environ.get("HUEY_IMMEDIATE") == "1":
        return MemoryHuey("o2o", immediate=True)  # tests: tasks run inline, after the commit that queued them
    if os.environ.get("REDIS_URL"):
        return RedisHuey("o2o", url=os.environ["REDIS_URL"])
    path = Path(os.environ.get("HUEY_SQLITE_PATH") or ROOT / "instance" / "huey.sqlite3")
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("o2o", filename=str(path))


huey = _make_huey()
_app = None


def _context():
    """The current app's context inside a request (immediate mode), else one app per worker process."""
    global _app
    from flask import has_app_context

    if has_app_context():
        return contextlib.nullcontext()
    if _app is None:
        from app import create_app

        _app = create_app()
    return _app.app_context()


def _run(fn, *args):
    from app.core.database import commit, rollback

    with _context():
        try:
            result = fn(*args)
            commit()
            return result
        except Exception:
            rollback()
            raise


# ---------------------------------------------------------------- orders

def cancel_expired_orders_now() -> int:
    """Cancels unpaid orders past their time and returns their stock. For WeChat Pay orders the provider
    is asked first (a notification may be late): a paid one becomes ready instead."""
    from app.core.clock import now_utc
    from app.extensions import db
    from app.orders import service as orders
    from app.orders.models import Order, PayMethod
    from app.payments import service as payments
    from app.payments.providers import provider_for

    done = 0
    with _context():
        for order_id in orders.expired_unpaid(now_utc()):
            order = db.session.get(Order, order_id)
            try:
                if order.pay_method is PayMethod.WECHAT:
                    for p in payments.open_payments(order):
                        outcome = provider_for(PayMethod.WECHAT).query(p)
                        if outcome.paid:
                            payments.apply_payment_result(payments.PaymentResult(
                                p.out_trade_no, True, outcome.amount_fen, outcome.transaction_id, outcome.paid_at))
                            break
                        provider_for(PayMethod.WECHAT).close(p)
                    db.session.refresh(order)
                if order.status.value == "pending_payment":
                    done += orders.cancel(order, reason="超时未支付，自动取消")
                from app.core.database import commit

                commit()
            except Exception:
                from app.core.database import rollback
                from app.core import logging as applog

                rollback()
                applog.log.exception("cancelling an expired order failed", extra={"fields": {"order_id": order_id}})
    return done


@huey.periodic_task(crontab(minute="*"))
def cancel_expired_orders():
    # No huey lock: a lock left by a killed worker would stop this task for good, and two workers running
    # it at once is safe (each cancel is a conditional update).
    return cancel_expired_orders_now()


@huey.periodic_task(crontab(minute="7"))
def complete_picked_up_orders():
    from app.core.clock import now_utc
    from app.orders import service as orders

    return _run(orders.complete_picked_up, now_utc())


# ---------------------------------------------------------------- refunds

@huey.task(retries=8, retry_delay=30)
def process_refund(refund_id: int):
    from app.payments import service as payments

    return _run(payments.process_refund, refund_id).value


@huey.periodic_task(crontab(minute="*/5"))
def retry_stuck_refunds():
    """Catches refunds whose job was lost (a worker died between commit and enqueue)."""
    from app.core.clock import now_utc
    from app.payments import service as payments

    def find():
        return payments.stuck_refunds(now_utc() - timedelta(minutes=5))

    for refund_id in _run(find):
        process_refund(refund_id)
