"""WeChat Pay misbehaving, through our real code paths against the fake WeChat's programmed faults: an
answer of 500, a gateway that hangs past our timeout (but does the work), a connection reset before anything
is done. Paying tells the payer to try again and keeps the order payable; a refund is retried with the same
out_refund_no until it goes through, and the money moves once; a payment that arrives after the order was
cancelled is refunded, not dropped."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest

from app.core import clock
from app.core.database import commit
from app.extensions import db
from app.members.service import member_for_wechat
from app.orders import service as orders
from app.orders.models import Order, OrderStatus
from app.payments import tasks as payment_tasks
from app.payments.models import Payment, PaymentStatus, PayMethod, Refund, RefundStatus
from app.payments.providers import PROVIDER_BUSY_EN, PROVIDER_BUSY_ZH
from tests.conftest import member_client
from tests.payments.conftest import notify
from tests.support.factories import make_product
from tests.support.queue import queue_on

FAULTS = ["500", "hang", "reset"]


def _place(world, openid: str = "o-wx-faults-1"):
    product = make_product(world.merchant, "美式", (("大杯", 2600, 2400),), stock={world.store: 5})
    member = member_for_wechat(world.merchant.id, openid=openid, nickname="微信用户")
    order = orders.place_order(world.merchant, world.store, member, [orders.LineRequest(product.skus[0].id, 1)],
                               pay_method=PayMethod.WECHAT)
    commit()
    return order, member


@pytest.mark.parametrize("mode", FAULTS)
def test_paying_when_wechat_fails_says_try_again_and_the_order_stays_payable(app, world, wechat, mode):
    order, member = _place(world)
    client = member_client(app, member)
    wechat.fault("jsapi", mode, times=2, seconds=2.0)  # 'hang' outlasts our 1 s timeout (WECHAT_PAY_TIMEOUT)
    started = time.monotonic()
    r = client.get(f"/orders/{order.id}/pay", headers={"Accept": "text/html"})
    assert time.monotonic() - started < 5, "a hung gateway must not hold the worker"
    assert r.status_code == 503
    page = r.get_data(as_text=True)
    assert PROVIDER_BUSY_ZH in page and 'data-code="payment_unavailable"' in page
    assert 'data-testid="error-retry"' in page and f"/orders/{order.id}/pay" in page
    en = client.get(f"/orders/{order.id}/pay?lang=en", headers={"Accept": "application/json"})
    assert en.status_code == 503 and en.json["error"]["message"] == PROVIDER_BUSY_EN
    db.session.expire_all()
    assert db.session.get(Order, order.id).status is OrderStatus.PENDING_PAYMENT
    if mode == "hang":
        time.sleep(2.0)  # the fake finishes the orders it was holding (the payer is not that quick anyway)

    page = client.get(f"/orders/{order.id}/pay").get_data(as_text=True)  # the payer tries again: it works
    payment = db.session.query(Payment).filter_by(order_id=order.id).one()  # the same payment, reused
    assert payment.status is PaymentStatus.CREATED
    assert f'"package": "prepay_id={wechat.orders[payment.out_trade_no]["prepay_id"]}"' in page
    assert list(wechat.orders) == [payment.out_trade_no]  # one order at WeChat, whatever happened first
    headers, body = wechat.payment_notification(payment.out_trade_no)
    assert notify(client, headers, body).status_code == 204
    assert client.get(f"/orders/{order.id}/status").json["status"] == "ready"


def _sweep_after(minutes: int) -> int:
    clock.advance(timedelta(minutes=minutes))
    return payment_tasks.retry_stuck_refunds()


@pytest.mark.parametrize("mode", FAULTS)
def test_a_refund_failing_twice_is_retried_with_the_same_number_and_the_money_moves_once(
        frozen, client, paying, wechat, mode):
    order, payment, _, _ = paying
    headers, body = wechat.payment_notification(payment.out_trade_no)
    assert notify(client, headers, body).status_code == 204
    db.session.expire_all()
    wechat.fault("refund", mode, times=2, seconds=2.0)

    refund = orders.refund(db.session.get(Order, order.id), reason="不想要了")
    commit()  # the send_refund job runs after the commit (inline in tests): the first attempt fails
    refund = db.session.get(Refund, refund.id)
    assert refund.status is RefundStatus.PENDING and refund.attempts == 1 and refund.last_error
    if mode == "hang":
        time.sleep(2.2)  # the fake did the refund after our client had given up: the money moved already

    assert _sweep_after(6) == 1  # the stuck-refund sweep (in a worker, Huey's own retries come first)
    db.session.expire_all()
    refund = db.session.get(Refund, refund.id)
    assert refund.status is RefundStatus.PENDING and refund.attempts == 2
    if mode == "hang":
        time.sleep(2.2)

    assert _sweep_after(6) == 1  # the third attempt goes through
    db.session.expire_all()
    refund = db.session.get(Refund, refund.id)
    assert refund.status is RefundStatus.PROCESSING

    assert set(wechat.refund_requests) == {refund.out_refund_no}  # every attempt: the same refund number
    assert len(wechat.refund_requests) == refund.attempts == 3
    assert wechat.refunds_created == {refund.out_refund_no: 1}  # the money moved once
    assert wechat.refunds[refund.out_refund_no]["amount"]["refund"] == payment.amount_fen
    assert _sweep_after(6) == 0  # settled at WeChat: never sent again

    headers, body = wechat.refund_notification(refund.out_refund_no, "SUCCESS")
    assert notify(client, headers, body, kind="refund").status_code == 204
    db.session.expire_all()
    assert db.session.get(Refund, refund.id).status is RefundStatus.SUCCEEDED
    assert db.session.get(Order, order.id).status is OrderStatus.REFUNDED


def test_a_payment_notified_after_the_order_was_cancelled_is_refunded(frozen, app, client, paying, wechat):
    """The documented rule: a payment that arrives for an order that can no longer take it goes back, whole,
    even when WeChat refuses the refund the first time."""
    order, payment, _, member = paying
    page = member_client(app, member).post(f"/orders/{order.id}/cancel", data={"reason": "不想要了"})
    assert page.status_code == 302
    db.session.expire_all()
    assert db.session.get(Order, order.id).status is OrderStatus.CANCELLED
    assert db.session.get(Payment, payment.id).status is PaymentStatus.CLOSED

    wechat.fault("refund", "500")  # and the refund endpoint is having a bad moment
    headers, body = wechat.payment_notification(payment.out_trade_no)  # the payer had paid meanwhile
    assert notify(client, headers, body).status_code == 204
    db.session.expire_all()
    assert db.session.get(Payment, payment.id).status is PaymentStatus.PAID
    assert db.session.get(Order, order.id).status is OrderStatus.CANCELLED  # not revived
    refund = db.session.query(Refund).filter_by(order_id=order.id).one()
    assert refund.amount_fen == payment.amount_fen and refund.status is RefundStatus.PENDING

    assert _sweep_after(6) == 1
    db.session.expire_all()
    refund = db.session.get(Refund, refund.id)
    assert refund.status is RefundStatus.PROCESSING
    assert wechat.refunds_created == {refund.out_refund_no: 1}
    headers, body = wechat.refund_notification(refund.out_refund_no, "SUCCESS")
    assert notify(client, headers, body, kind="refund").status_code == 204
    db.session.expire_all()
    assert db.session.get(Refund, refund.id).status is RefundStatus.SUCCEEDED
    assert db.session.get(Order, order.id).status is OrderStatus.CANCELLED


def test_the_pay_client_gives_up_after_the_configured_timeout(app, wechat):
    from app.payments.providers import wechat_client

    with app.app_context():
        client = wechat_client()
    assert client._wp._core._timeout == (3.05, 1.0)


def test_a_failed_refund_is_retried_by_the_queue_with_backoff(app, client, paying, wechat, tmp_path):
    """Through a real (SQLite-file) Huey queue: each failure schedules the next attempt later than the one
    before (30 s, then 60 s); the third attempt goes through; one refund number, the money moved once."""
    order, payment, _, _ = paying
    headers, body = wechat.payment_notification(payment.out_trade_no)
    assert notify(client, headers, body).status_code == 204
    db.session.expire_all()
    wechat.fault("refund", "500", times=2)
    with queue_on(app, HUEY_IMMEDIATE=False, REDIS_URL="", HUEY_SQLITE_PATH=str(tmp_path / "q.sqlite3")) as huey:
        refund = orders.refund(db.session.get(Order, order.id), reason="不想要了")
        commit()  # queued, not run
        task = huey.dequeue()
        delays = []
        for _ in range(3):
            before = huey._get_timestamp()
            huey.execute(task, timestamp=task.eta or before)  # as the consumer does once the time has come
            scheduled = huey.scheduled()
            if not scheduled:
                break
            task = scheduled[0]
            delays.append(round((task.eta - before).total_seconds()))
            huey.storage.flush_schedule()
    assert delays == [30, 60]
    db.session.expire_all()
    refund = db.session.get(Refund, refund.id)
    assert refund.status is RefundStatus.PROCESSING and refund.attempts == 3
    assert wechat.refund_requests == [refund.out_refund_no] * 3
    assert wechat.refunds_created == {refund.out_refund_no: 1}
