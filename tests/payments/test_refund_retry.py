"""A refund WeChat refused for good is asked again from the console's order page (重试退款): the same refund
(its amount, not what is left of the payment) under a NEW out_refund_no, once, by the send_refund task; one
WeChat holds as ABNORMAL is not sent again (it is finished in the merchant platform). The same permission as a
refund: a cashier is refused, and the group-buy console's retry, the same function, stays campaign editors'."""
from __future__ import annotations

import re

from app.core.database import commit
from app.extensions import db
from app.merchants.models import AuditEvent
from app.orders import service as orders
from app.orders.models import Order
from app.payments.models import Refund, RefundStatus
from tests.payments.conftest import notify
from tests.web.console_support import console_client, post


def _refund_of_one_cup(client, paying, wechat) -> Refund:
    """The order paid at WeChat, then one of its two cups refunded: ¥25.00 of ¥50.00, PROCESSING at WeChat."""
    order, payment, _, _ = paying
    headers, body = wechat.payment_notification(payment.out_trade_no)
    assert notify(client, headers, body).status_code == 204
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    refund = orders.refund(order, reason="少做了一杯", quantities={order.lines[0].id: 1})
    commit()
    refund = db.session.get(Refund, refund.id)
    assert refund.amount_fen == 2500 and refund.status is RefundStatus.PROCESSING
    return refund


def _wechat_settles(client, wechat, refund: Refund, status: str) -> Refund:
    headers, body = wechat.refund_notification(refund.out_refund_no, status)
    assert notify(client, headers, body, kind="refund").status_code == 204
    db.session.expire_all()
    return db.session.get(Refund, refund.id)


def _retry_buttons(page: str) -> list[str]:
    return re.findall(r'action="/console/orders/refunds/(\d+)/retry"', page)


def test_a_refund_wechat_closed_is_sent_again_under_a_new_number_once(app, client, world, paying, wechat):
    refund = _refund_of_one_cup(client, paying, wechat)
    refund = _wechat_settles(client, wechat, refund, "CLOSED")  # 退款关闭: WeChat moved nothing
    assert refund.status is RefundStatus.FAILED and refund.last_error == "CLOSED"

    owner = console_client(app, world.owner)
    page = owner.get(f"/console/orders/{refund.order_id}").get_data(as_text=True)
    assert _retry_buttons(page) == [str(refund.id)] and "重试退款" in page
    r = post(owner, f"/console/orders/refunds/{refund.id}/retry")
    assert r.status_code == 302 and r.location.endswith(f"/console/orders/{refund.order_id}?done=refund_retry")

    db.session.expire_all()
    old, new = db.session.query(Refund).filter_by(order_id=refund.order_id).order_by(Refund.id).all()
    assert old.status is RefundStatus.FAILED  # kept, for the record
    assert new.retry_of_id == old.id and new.out_refund_no != old.out_refund_no
    assert new.amount_fen == 2500 and new.reason == old.reason  # the same refund, not the whole payment
    assert new.status is RefundStatus.PROCESSING and new.attempts == 1  # sent by the send_refund task
    assert wechat.refunds_created == {old.out_refund_no: 1, new.out_refund_no: 1}
    assert wechat.refunds[new.out_refund_no]["amount"]["refund"] == 2500
    entry = db.session.query(AuditEvent).filter_by(action="order.refund_retry").one()
    assert entry.object_id == refund.order_id and entry.after["out_refund_no"] == new.out_refund_no

    page = owner.get(f"/console/orders/{refund.order_id}?done=refund_retry").get_data(as_text=True)
    assert _retry_buttons(page) == [] and 'data-testid="done"' in page
    r = post(owner, f"/console/orders/refunds/{old.id}/retry")  # a second click, an old tab
    assert r.status_code == 400 and "这笔退款已重新发起过" in r.get_data(as_text=True)
    assert db.session.query(Refund).filter_by(order_id=refund.order_id).count() == 2
    assert len(wechat.refund_requests) == 2

    new = _wechat_settles(client, wechat, new, "SUCCESS")
    assert new.status is RefundStatus.SUCCEEDED
    assert db.session.get(Order, refund.order_id).refunded_fen == 2500


def test_a_refund_wechat_holds_as_abnormal_is_not_sent_again(app, client, world, paying, wechat):
    refund = _refund_of_one_cup(client, paying, wechat)
    refund = _wechat_settles(client, wechat, refund, "ABNORMAL")  # the payer's card is gone: WeChat holds it
    assert refund.status is RefundStatus.FAILED and refund.last_error == "ABNORMAL"
    owner = console_client(app, world.owner)
    assert _retry_buttons(owner.get(f"/console/orders/{refund.order_id}").get_data(as_text=True)) == []
    r = post(owner, f"/console/orders/refunds/{refund.id}/retry")
    assert r.status_code == 400 and "请在微信支付商户平台处理这笔退款" in r.get_data(as_text=True)
    assert db.session.query(Refund).filter_by(order_id=refund.order_id).count() == 1
    assert wechat.refund_requests == [refund.out_refund_no]


def test_only_roles_that_may_refund_may_retry_a_refund(app, client, world, paying, wechat):
    refund = _refund_of_one_cup(client, paying, wechat)
    refund = _wechat_settles(client, wechat, refund, "CLOSED")
    r = post(console_client(app, world.cashier), f"/console/orders/refunds/{refund.id}/retry")
    assert r.status_code == 403
    # The group-buy console's retry is the same function, behind the campaigns' permission: a store manager
    # may refund their store's orders but not edit campaigns.
    r = post(console_client(app, world.manager), f"/console/groupbuys/refunds/{refund.id}/retry")
    assert r.status_code == 403
    assert db.session.query(Refund).filter_by(order_id=refund.order_id).count() == 1

    manager = console_client(app, world.manager)  # the order is at the manager's own store: allowed
    assert _retry_buttons(manager.get(f"/console/orders/{refund.order_id}").get_data(as_text=True)) == [str(refund.id)]
    assert post(manager, f"/console/orders/refunds/{refund.id}/retry").status_code == 302
    db.session.expire_all()
    assert db.session.query(Refund).filter_by(order_id=refund.order_id, retry_of_id=refund.id).count() == 1
