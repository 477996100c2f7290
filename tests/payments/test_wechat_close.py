"""A WeChat payment closed here is closed at WeChat too, so the payer cannot pay it there: after the commit, by
the `payments.close_remote` task (retried with backoff), and by a sweep when its message was lost. Paid at
WeChat just before the close, it is applied like any payment and refunded once; a definitive refusal is
logged and recorded, not asked again. Against the fake WeChat (real signatures, the real close endpoint)."""
from __future__ import annotations

import logging
from datetime import timedelta

from app.core import clock
from app.core.database import commit
from app.extensions import db
from app.orders import handover
from app.orders import service as orders
from app.orders.models import Order, OrderStatus
from app.payments import tasks as payment_tasks
from app.payments.models import Payment, PaymentStatus, PayMethod, Refund, RefundStatus
from tests.conftest import member_client
from tests.payments.conftest import notify
from tests.support.factories import make_member, make_product
from tests.support.queue import queue_on


def _cancel(order_id: int) -> None:
    assert orders.cancel(db.session.get(Order, order_id), reason="不想要了")


def test_cancelling_an_unpaid_order_closes_its_payment_at_wechat(app, paying, wechat):
    order, payment, _, member = paying
    assert wechat.orders[payment.out_trade_no]["trade_state"] == "NOTPAY"
    r = member_client(app, member).post(f"/orders/{order.id}/cancel", data={"reason": "不想要了"})
    assert r.status_code == 302
    assert wechat.close_requests == [payment.out_trade_no]  # after the commit, once
    assert wechat.orders[payment.out_trade_no]["trade_state"] == "CLOSED"
    db.session.expire_all()
    p = db.session.get(Payment, payment.id)
    assert p.status is PaymentStatus.CLOSED and p.closed_remote_at is not None and p.remote_close_error is None
    assert payment_tasks.close_lost_remote() == 0  # nothing left for the sweep
    assert wechat.close_requests == [payment.out_trade_no]


def test_a_close_failing_once_is_retried_by_the_queue_after_a_delay_and_goes_through(app, paying, wechat, tmp_path):
    """Through a real (SQLite-file) Huey queue: WeChat answers 500 once; the retry is scheduled 30 s later and
    closes the order."""
    order, payment, _, _ = paying
    wechat.fault("close", "500")
    with queue_on(app, HUEY_IMMEDIATE=False, REDIS_URL="", HUEY_SQLITE_PATH=str(tmp_path / "q.sqlite3")) as huey:
        _cancel(order.id)
        commit()  # queued, not run
        task = huey.dequeue()
        before = huey._get_timestamp()
        huey.execute(task, timestamp=before)
        db.session.expire_all()
        assert db.session.get(Payment, payment.id).closed_remote_at is None  # the 500: not closed yet
        retry = huey.scheduled()[0]
        assert round((retry.eta - before).total_seconds()) == 30
        huey.storage.flush_schedule()
        assert huey.execute(retry, timestamp=retry.eta) == "closed"
    assert wechat.close_requests == [payment.out_trade_no] * 2
    assert wechat.closed == [payment.out_trade_no]
    db.session.expire_all()
    assert db.session.get(Payment, payment.id).closed_remote_at is not None


def test_a_payment_paid_at_wechat_just_before_the_close_is_applied_and_refunded_once(client, paying, wechat):
    order, payment, _, _ = paying
    _cancel(order.id)
    wechat.mark_paid(payment.out_trade_no)  # the payer pays while the cancel commits
    commit()  # the close: ORDERPAID; the query: SUCCESS; the payment applied, the cancelled order refunds it
    assert wechat.close_requests == [payment.out_trade_no] and wechat.closed == []
    db.session.expire_all()
    p = db.session.get(Payment, payment.id)
    assert p.status is PaymentStatus.PAID and p.transaction_id.startswith("4200") and p.closed_remote_at is not None
    assert db.session.get(Order, order.id).status is OrderStatus.CANCELLED
    refund = db.session.query(Refund).filter_by(order_id=order.id).one()
    assert refund.amount_fen == payment.amount_fen and refund.status is RefundStatus.PROCESSING
    assert wechat.refunds_created == {refund.out_refund_no: 1}

    headers, body = wechat.payment_notification(payment.out_trade_no)  # WeChat's notification comes late
    assert notify(client, headers, body).status_code == 204
    assert payment_tasks.close_lost_remote() == 0
    db.session.expire_all()
    assert db.session.query(Refund).filter_by(order_id=order.id).count() == 1  # refunded once
    assert wechat.refunds_created == {refund.out_refund_no: 1}


def test_the_sweep_closes_a_payment_whose_message_was_lost(app, paying, wechat, caplog):
    order, payment, _, _ = paying
    # The queue is down when the cancel commits: the message cannot be sent (logged, not raised).
    with queue_on(app, HUEY_IMMEDIATE=False, REDIS_URL="redis://127.0.0.1:1/0"), \
            caplog.at_level(logging.WARNING, logger="o2o"):
        _cancel(order.id)
        commit()
    assert any("could not queue task payments.close_remote" in r.getMessage() for r in caplog.records)
    assert wechat.close_requests == []
    db.session.expire_all()
    assert db.session.get(Payment, payment.id).status is PaymentStatus.CLOSED
    assert wechat.orders[payment.out_trade_no]["trade_state"] == "NOTPAY"  # still payable at WeChat

    assert payment_tasks.close_lost_remote() == 1
    assert wechat.closed == [payment.out_trade_no]
    db.session.expire_all()
    assert db.session.get(Payment, payment.id).closed_remote_at is not None
    assert payment_tasks.close_lost_remote() == 0  # done: never asked again


def test_a_definitive_refusal_is_logged_and_recorded_and_not_asked_again(app, paying, wechat, caplog):
    order, payment, _, _ = paying
    app.config["WECHAT_PAY_CERT_SERIAL_NO"] = "0" * 40  # a merchant key WeChat does not know: 401 SIGN_ERROR
    with caplog.at_level(logging.ERROR, logger="o2o"):
        _cancel(order.id)
        commit()
    assert wechat.close_requests == [payment.out_trade_no] and wechat.closed == []
    assert any("payment not closed at the provider" in r.getMessage() for r in caplog.records)
    db.session.expire_all()
    p = db.session.get(Payment, payment.id)
    assert p.closed_remote_at is None and p.remote_close_error.startswith("SIGN_ERROR")
    assert payment_tasks.close_lost_remote() == 0
    assert wechat.close_requests == [payment.out_trade_no]


def test_a_payment_never_made_at_wechat_has_nothing_to_close(app, paying, wechat):
    order, payment, _, _ = paying
    wechat.orders.pop(payment.out_trade_no)  # as if the pay page had never reached WeChat
    _cancel(order.id)
    commit()
    assert wechat.close_requests == [payment.out_trade_no]  # answered ORDER_NOT_EXIST
    db.session.expire_all()
    assert db.session.get(Payment, payment.id).closed_remote_at is not None
    assert payment_tasks.close_lost_remote() == 0


def test_an_expired_order_closed_at_wechat_by_its_own_job_is_not_closed_twice(frozen, paying, wechat):
    from app.orders import tasks as order_tasks

    order, payment, _, _ = paying
    clock.advance(timedelta(minutes=20))
    assert order_tasks.cancel_expired() == 1
    assert wechat.close_requests == [payment.out_trade_no]
    db.session.expire_all()
    assert db.session.get(Payment, payment.id).closed_remote_at is not None
    assert payment_tasks.close_lost_remote() == 0


def test_a_sandbox_payment_closed_here_has_nothing_to_close_elsewhere(app, world, wechat):
    product = make_product(world.merchant, "摩卡", (("中杯", 3000, None),), stock={world.store: 5})
    member = make_member(world.merchant, "小红")
    order = orders.place_order(world.merchant, world.store, member, [orders.LineRequest(product.skus[0].id, 1)],
                               pay_method=PayMethod.SANDBOX)
    payment = handover.open_payment(order)
    commit()
    _cancel(order.id)
    commit()
    db.session.expire_all()
    assert db.session.get(Payment, payment.id).status is PaymentStatus.CLOSED
    assert payment_tasks.close_lost_remote() == 0 and wechat.close_requests == []
