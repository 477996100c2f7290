import time

import pytest
from werkzeug.datastructures import Headers

from app.integrations.wechat import NotificationRejected

NOTIFY = "https://shop.test/pay/wechat/notify"


def _order(pay):
    pay.create_jsapi_order("O-NOTIFY-0001", "测试订单", 2500, "o-payer-9", NOTIFY)
    return "O-NOTIFY-0001"


def _reason(pay, headers, body, **kw):
    with pytest.raises(NotificationRejected) as exc:
        pay.parse_notification(headers, body, **kw)
    return exc.value.reason


def test_valid_payment_notification(fake_wechat, wx_pay_any):
    paid_order = _order(wx_pay_any)
    headers, body = fake_wechat.payment_notification(paid_order)
    n = wx_pay_any.parse_notification(headers, body)
    assert n.event_type == "TRANSACTION.SUCCESS"
    assert n.summary == "支付成功"
    assert n.id == n.envelope["id"] and n.id
    r = n.resource
    assert r["out_trade_no"] == paid_order and r["trade_state"] == "SUCCESS"
    assert r["amount"]["total"] == 2500 and r["payer"]["openid"] == "o-payer-9"
    assert r["mchid"] == fake_wechat.mchid and r["appid"] == fake_wechat.appid
    assert r["transaction_id"] == fake_wechat.orders[paid_order]["transaction_id"]
    assert "ciphertext" in n.envelope["resource"]  # it really was encrypted on the wire
    assert b"O-NOTIFY-0001" not in body


def test_headers_are_case_insensitive(fake_wechat, wx_pay):
    paid_order = _order(wx_pay)
    headers, body = fake_wechat.payment_notification(paid_order)
    lower = {k.lower(): v for k, v in headers.items()}
    assert wx_pay.parse_notification(lower, body).event_type == "TRANSACTION.SUCCESS"
    assert wx_pay.parse_notification(Headers(headers), body.decode()).event_type == "TRANSACTION.SUCCESS"
    environ = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
    assert wx_pay.parse_notification(environ, body).event_type == "TRANSACTION.SUCCESS"


def test_valid_refund_notification(fake_wechat, wx_pay_any):
    paid_order = _order(wx_pay_any)
    fake_wechat.mark_paid(paid_order)
    wx_pay_any.refund(paid_order, "R-NOTIFY-0001", 2500, 2500)
    headers, body = fake_wechat.refund_notification("R-NOTIFY-0001")
    n = wx_pay_any.parse_notification(headers, body)
    assert n.event_type == "REFUND.SUCCESS"
    assert n.resource["refund_status"] == "SUCCESS"
    assert n.resource["out_refund_no"] == "R-NOTIFY-0001" and n.resource["amount"]["refund"] == 2500


def test_altered_body_is_rejected(fake_wechat, wx_pay_any):
    paid_order = _order(wx_pay_any)
    headers, body = fake_wechat.payment_notification(paid_order, tamper="altered_body")
    assert _reason(wx_pay_any, headers, body) == "bad_signature"


def test_signature_by_another_key_is_rejected(fake_wechat, wx_pay_any):
    paid_order = _order(wx_pay_any)
    headers, body = fake_wechat.payment_notification(paid_order, tamper="bad_signature")
    assert _reason(wx_pay_any, headers, body) == "bad_signature"


def test_wechat_signtest_probe_is_rejected(fake_wechat, wx_pay_any):
    paid_order = _order(wx_pay_any)
    headers, body = fake_wechat.payment_notification(paid_order, tamper="garbage_signature")
    assert _reason(wx_pay_any, headers, body) == "bad_signature"


def test_unknown_serial_is_rejected(fake_wechat, wx_pay_any):
    paid_order = _order(wx_pay_any)
    headers, body = fake_wechat.payment_notification(paid_order)
    headers["Wechatpay-Serial"] = "PUB_KEY_ID_0000" if wx_pay_any.mode == "public_key" else "0BADC0FFEE"
    assert _reason(wx_pay_any, headers, body) == "bad_signature"



def test_stale_notification_is_rejected(fake_wechat, wx_pay_any):
    paid_order = _order(wx_pay_any)
    headers, body = fake_wechat.payment_notification(paid_order, timestamp=int(time.time()) - 360)
    assert _reason(wx_pay_any, headers, body) == "stale"
    # wechatpayv3 alone would have accepted it: the freshness check is ours
    assert wx_pay_any._wp.callback(headers, body)["event_type"] == "TRANSACTION.SUCCESS"


def test_freshness_window_is_five_minutes_either_way(fake_wechat, wx_pay):
    paid_order = _order(wx_pay)
    ts = 1_800_000_000
    headers, body = fake_wechat.payment_notification(paid_order, timestamp=ts)
    assert wx_pay.parse_notification(headers, body, now=ts + 299).event_type == "TRANSACTION.SUCCESS"
    assert wx_pay.parse_notification(headers, body, now=ts - 299).event_type == "TRANSACTION.SUCCESS"
    assert _reason(wx_pay, headers, body, now=ts + 301) == "stale"
    assert _reason(wx_pay, headers, body, now=ts - 301) == "stale"


def test_resource_under_another_apiv3_key_is_undecryptable(fake_wechat, wx_pay_any):
    paid_order = _order(wx_pay_any)
    headers, body = fake_wechat.payment_notification(paid_order, apiv3_key="y" * 32)
    assert _reason(wx_pay_any, headers, body) == "undecryptable"


def test_missing_headers_or_garbage(fake_wechat, wx_pay):
    paid_order = _order(wx_pay)
    headers, body = fake_wechat.payment_notification(paid_order)
    assert _reason(wx_pay, {k: v for k, v in headers.items() if k != "Wechatpay-Signature"}, body) == "malformed"
    assert _reason(wx_pay, dict(headers, **{"Wechatpay-Timestamp": "soon"}), body) == "malformed"
    assert _reason(wx_pay, headers, b"\xff\xfe") == "malformed"
    assert _reason(wx_pay, {}, b"") == "malformed"
