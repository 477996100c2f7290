"""WeChat Pay v3 through our real code paths, against the local fake WeChat (real RSA signatures on
requests, responses and notifications; AES-GCM encrypted resources)."""
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
from app.payments.models import PayMethod
from app.payments.models import Payment, PaymentStatus, ProcessedNotification, Refund, RefundStatus
from tests.fakes.wechat_server import default_keys, rsa_verify
from tests.payments.conftest import notify
from tests.conftest import member_client
from tests.support.factories import make_product


def test_jsapi_checkout_parameters_are_signed_by_the_merchant(paying, wechat):
    order, payment, checkout, member = paying
    assert checkout.kind == "jsapi"
    params = checkout.params
    assert params["package"].startswith("prepay_id=") and params["signType"] == "RSA"
    message = f"{params['appId']}\n{params['timeStamp']}\n{params['nonceStr']}\n{params['package']}\n"
    assert rsa_verify(default_keys().merchant_public_key, message, params["paySign"])
    sent = wechat.orders[payment.out_trade_no]
    assert sent["amount"]["total"] == 5000 and sent["payer"]["openid"] == "o-wx-openid-1"
    assert sent["notify_url"] == "https://shop.test/webhooks/wechatpay/payment"


def test_notification_makes_the_order_ready_once(client, paying, wechat):
    order, payment, _, _ = paying
    headers, body = wechat.payment_notification(payment.out_trade_no)
    assert notify(client, headers, body).status_code == 204
    assert notify(client, headers, body).status_code == 204  # delivered twice
    db.session.expire_all()
    assert db.session.get(Order, order.id).status is OrderStatus.READY
    assert db.session.get(Payment, payment.id).status is PaymentStatus.PAID
    assert db.session.get(Payment, payment.id).transaction_id.startswith("4200")
    assert db.session.query(ProcessedNotification).count() == 1


@pytest.mark.parametrize("tamper", ["bad_signature", "altered_body", "garbage_signature"])
def test_tampered_notifications_are_refused(client, paying, wechat, tamper):
    order, payment, _, _ = paying
    headers, body = wechat.payment_notification(payment.out_trade_no, tamper=tamper)
    r = notify(client, headers, body)
    assert r.status_code == 401 and r.json["code"] == "FAIL"
    db.session.expire_all()
    assert db.session.get(Order, order.id).status is OrderStatus.PENDING_PAYMENT


def test_stale_notification_is_refused(client, paying, wechat):
    order, payment, _, _ = paying
    headers, body = wechat.payment_notification(payment.out_trade_no, timestamp=time.time() - 360)
    r = notify(client, headers, body)
    assert r.status_code == 401 and r.json["message"] == "stale"
    db.session.expire_all()
    assert db.session.get(Order, order.id).status is OrderStatus.PENDING_PAYMENT


def test_notification_under_another_apiv3_key_is_refused(client, paying, wechat):
    order, payment, _, _ = paying
    headers, body = wechat.payment_notification(payment.out_trade_no, apiv3_key="x" * 32)
    assert notify(client, headers, body).status_code == 401


def test_late_notification_is_caught_by_querying_before_cancel(frozen, paying, wechat):
    from app.orders import tasks as order_tasks

    order, payment, _, _ = paying
    wechat.mark_paid(payment.out_trade_no)  # the user paid; the notification never arrived
    clock.advance(timedelta(minutes=20))
    assert order_tasks.cancel_expired() == 0
    db.session.expire_all()
    assert db.session.get(Order, order.id).status is OrderStatus.READY


def test_unpaid_order_is_closed_at_wechat_and_cancelled(frozen, paying, wechat):
    from app.orders import tasks as order_tasks

    order, payment, _, _ = paying
    clock.advance(timedelta(minutes=20))
    assert order_tasks.cancel_expired() == 1
    assert wechat.orders[payment.out_trade_no]["trade_state"] == "CLOSED"
    db.session.expire_all()
    assert db.session.get(Order, order.id).status is OrderStatus.CANCELLED


def test_refund_goes_to_wechat_after_commit_and_completes_by_notification(client, paying, wechat):
    order, payment, _, _ = paying
    headers, body = wechat.payment_notification(payment.out_trade_no)
    notify(client, headers, body)
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    refund = orders.refund(order, reason="不想要了")
    commit()  # the refund job runs after the commit (immediate mode in tests)
    refund = db.session.get(Refund, refund.id)
    assert refund.status is RefundStatus.PROCESSING and refund.attempts == 1
    assert wechat.refunds[refund.out_refund_no]["amount"]["refund"] == 5000
    headers, body = wechat.refund_notification(refund.out_refund_no, "SUCCESS")
    assert notify(client, headers, body, kind="refund").status_code == 204
    db.session.expire_all()
    assert db.session.get(Refund, refund.id).status is RefundStatus.SUCCEEDED


def test_pay_page_hands_the_signed_jsapi_parameters_to_the_wechat_browser(app, world, wechat):
    """Through the real page: the order's pay page asks the (fake) WeChat Pay for a prepay id and renders
    the merchant-signed parameters for WeixinJSBridge; the payment notification then makes it ready."""
    product = make_product(world.merchant, "拿铁", (("中杯", 2800, 2500),), stock={world.store: 5})
    member = member_for_wechat(world.merchant.id, openid="o-wx-openid-2", nickname="微信用户")
    order = orders.place_order(world.merchant, world.store, member, [orders.LineRequest(product.skus[0].id, 1)],
                               pay_method=PayMethod.WECHAT)
    commit()
    client = member_client(app, member)
    page = client.get(f"/orders/{order.id}/pay").get_data(as_text=True)
    payment = db.session.query(Payment).filter_by(order_id=order.id).one()
    prepay_id = wechat.orders[payment.out_trade_no]["prepay_id"]
    assert f'"package": "prepay_id={prepay_id}"' in page and '"signType": "RSA"' in page
    assert client.get(f"/orders/{order.id}/status").json["status"] == "pending_payment"
    headers, body = wechat.payment_notification(payment.out_trade_no)
    assert notify(client, headers, body).status_code == 204
    assert client.get(f"/orders/{order.id}/status").json["status"] == "ready"
