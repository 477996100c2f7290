"""The job queue (Redis) cut off: placing an order and asking for a refund still work, the failure to queue
is logged, and what must happen is in the database already, so the sweeps do it once the queue is back.
Redis is reached through a TCP proxy that is cut (tests/support/proxy.py); the machine's Redis is untouched."""
from __future__ import annotations

import contextlib
import logging
import socket
from datetime import timedelta

import pytest

from app.core import clock
from app.core.database import commit
from app.extensions import db
from app.orders import handover
from app.orders import service as orders
from app.orders import tasks as order_tasks
from app.orders.models import Order, OrderStatus
from app.payments import service as payments
from app.payments import tasks as payment_tasks
from app.payments.models import PayMethod, Refund, RefundStatus
from tests.support.factories import make_member, make_product
from tests.support.queue import queue_on

REDIS = "redis://127.0.0.1:6379/15"


def _redis_listening() -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", 6379), timeout=1):
        return True
    return False


@pytest.mark.skipif(not _redis_listening(), reason="needs a Redis on 127.0.0.1:6379 to proxy to")
def test_work_decided_while_the_queue_is_down_is_done_by_the_sweeps_once_it_is_back(
        app, world, frozen, tcp_proxy, caplog):
    product = make_product(world.merchant, "拿铁", (("中杯", 2800, 2500),), stock={world.store: 5})
    member = make_member(world.merchant, "小明")
    commit()
    proxy = tcp_proxy(REDIS)
    proxy.cut()
    with queue_on(app, REDIS_URL=proxy.url_for(REDIS), HUEY_IMMEDIATE=False), \
            caplog.at_level(logging.WARNING, logger="o2o"):
        unpaid = orders.place_order(world.merchant, world.store, member, [orders.LineRequest(product.skus[0].id, 1)],
                                    pay_method=PayMethod.SANDBOX)
        commit()  # its deadline message cannot be queued: logged, not raised
        paid = orders.place_order(world.merchant, world.store, member, [orders.LineRequest(product.skus[0].id, 1)],
                                  pay_method=PayMethod.SANDBOX)
        commit()
        payment = handover.open_payment(paid)
        payments.apply_payment_result(payments.PaymentResult(payment.out_trade_no, True, payment.amount_fen, "T1"))
        commit()
        orders.refund(db.session.get(Order, paid.id), reason="不想要了")
        commit()  # the refund's message cannot be queued either
    assert any("could not queue task orders.cancel_if_expired" in r.getMessage() for r in caplog.records)
    assert any("could not queue task payments.send_refund" in r.getMessage() for r in caplog.records)
    refunds = db.session.query(Refund).filter_by(order_id=paid.id).all()
    assert [(r.status, r.attempts) for r in refunds] == [(RefundStatus.PENDING, 0)]  # recorded, not sent

    proxy.restore()  # the queue is back; the sweeps run (inline here, from the queue in a worker)
    clock.advance(timedelta(minutes=20))
    assert order_tasks.cancel_expired() == 1
    assert payment_tasks.retry_stuck_refunds() == 1
    db.session.expire_all()
    assert db.session.get(Order, unpaid.id).status is OrderStatus.CANCELLED
    assert [(r.status, r.attempts) for r in db.session.query(Refund).filter_by(order_id=paid.id)] == \
        [(RefundStatus.SUCCEEDED, 1)]
    assert db.session.get(Order, paid.id).status is OrderStatus.REFUNDED
    assert order_tasks.cancel_expired() == 0 and payment_tasks.retry_stuck_refunds() == 0  # once
