import base64
import json
import os
from datetime import datetime, timedelta, timezone

import pytest
import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from app.integrations.wechat import ResponseSignatureError, WeChatPayClient, WeChatPayError
from tests.fakes.wechat_server import _pem_private

NOTIFY = "https://shop.test/pay/wechat/notify"


def _order(pay, no="O20261123000001", fen=1990, openid="o-payer-1", **kw):
    return pay.create_jsapi_order(no, "门店券 满100减20", fen, openid, NOTIFY, **kw)


def _verify_pay_sign(public_key, params):
    message = f'{params["appId"]}\n{params["timeStamp"]}\n{params["nonceStr"]}\n{params["package"]}\n'.encode()
    public_key.verify(base64.b64decode(params["paySign"]), message, padding.PKCS1v15(), hashes.SHA256())


def test_create_order_returns_signed_jsapi_params(fake_wechat, wx_keys, wx_pay_any):
    params = _order(wx_pay_any)
    assert set(params) == {"appId", "timeStamp", "nonceStr", "package", "signType", "paySign"}
    assert params["appId"] == fake_wechat.appid and params["signType"] == "RSA"
    assert params["timeStamp"].isdigit()
    order = fake_wechat.orders["O20261123000001"]
    assert params["package"] == "prepay_id=" + order["prepay_id"]
    assert order["amount"]["total"] == 1990 and order["payer"] == {"openid": "o-payer-1"}
    assert order["notify_url"] == NOTIFY and order["description"] == "门店券 满100减20"
    _verify_pay_sign(wx_keys.merchant_public_key, params)  # raises if wrong
    with pytest.raises(InvalidSignature):  # and the check can fail
        _verify_pay_sign(wx_keys.merchant_public_key, dict(params, timeStamp=str(int(params["timeStamp"]) + 1)))
    assert fake_wechat.auth_failures == []
    assert fake_wechat.pay_requests[-1]["headers"]["Authorization"].startswith(
        f'WECHATPAY2-SHA256-RSA2048 mchid="{fake_wechat.mchid}"')


def test_same_order_twice_gives_the_same_prepay_id_and_other_params_conflict(fake_wechat, wx_pay):
    first = _order(wx_pay)
    assert _order(wx_pay)["package"] == first["package"]
    with pytest.raises(WeChatPayError) as exc:
        _order(wx_pay, fen=1)
    assert (exc.value.status, exc.value.code) == (400, "INVALID_REQUEST")


def test_time_expire_is_sent_as_rfc3339(fake_wechat, wx_pay):
    cst = timezone(timedelta(hours=8))
    _order(wx_pay, time_expire=datetime(2026, 11, 23, 14, 30, tzinfo=cst))
    assert fake_wechat.orders["O20261123000001"]["time_expire"] == "2026-11-23T14:30:00+08:00"
    with pytest.raises(ValueError):
        _order(wx_pay, no="O20261123000002", time_expire=datetime(2026, 11, 23, 14, 30))


def test_query_close_and_refund(fake_wechat, wx_pay_any):
    pay = wx_pay_any
    _order(pay, no="O-QUERY-0001")
    assert pay.query_order("O-QUERY-0001")["trade_state"] == "NOTPAY"
    fake_wechat.mark_paid("O-QUERY-0001")
    paid = pay.query_order("O-QUERY-0001")
    assert paid["trade_state"] == "SUCCESS" and paid["transaction_id"].startswith("4200")
    assert paid["amount"]["total"] == 1990 and paid["payer"]["openid"] == "o-payer-1"

    refund = pay.refund("O-QUERY-0001", "R-QUERY-0001", 990, 1990, reason="顾客要求", notify_url=NOTIFY)
    assert refund["status"] == "PROCESSING"
    assert refund["out_refund_no"] == "R-QUERY-0001" and refund["amount"]["refund"] == 990
    assert pay.query_refund("R-QUERY-0001")["refund_id"] == refund["refund_id"]
    sent = json.loads(fake_wechat.pay_requests[-2]["body"])
    assert sent["amount"] == {"refund": 990, "total": 1990, "currency": "CNY"} and sent["reason"] == "顾客要求"
    with pytest.raises(WeChatPayError) as exc:  # 990 + 1001 > 1990
        pay.refund("O-QUERY-0001", "R-QUERY-0002", 1001, 1990)
    assert (exc.value.status, exc.value.code) == (400, "INVALID_REQUEST")

    _order(pay, no="O-CLOSE-0001")
    assert pay.close_order("O-CLOSE-0001") is None
    assert pay.query_order("O-CLOSE-0001")["trade_state"] == "CLOSED"
    with pytest.raises(WeChatPayError) as exc:
        pay.close_order("O-QUERY-0001")
    assert exc.value.code == "ORDERPAID"


def test_http_errors_become_typed_errors(fake_wechat, wx_pay):
    with pytest.raises(WeChatPayError) as exc:
        wx_pay.query_order("O-MISSING-01")
    assert (exc.value.status, exc.value.code) == (404, "ORDER_NOT_EXIST")
    _order(wx_pay, no="O-UNPAID-01")
    with pytest.raises(WeChatPayError) as exc:
        wx_pay.refund("O-UNPAID-01", "R-UNPAID-01", 100, 1990)
    assert (exc.value.status, exc.value.code) == (400, "INVALID_REQUEST")


def test_network_error(wx_keys, fake_wechat):
    cfg = dict(fake_wechat.pay_config("public_key"), gateway="http://127.0.0.1:9", timeout=0.5)
    with pytest.raises(WeChatPayError) as exc:
        WeChatPayClient(**cfg).query_order("O-ANY-000001")
    assert exc.value.code == "NETWORK_ERROR"


def test_fake_refuses_requests_not_signed_by_the_merchant(fake_wechat, wx_keys):
    # a client holding another private key (same mchid and serial) is refused: the fake really checks signatures
    cfg = dict(fake_wechat.pay_config("public_key"), private_key=_pem_private(wx_keys.attacker_key))
    with pytest.raises(WeChatPayError) as exc:
        _order(WeChatPayClient(**cfg))
    assert (exc.value.status, exc.value.code) == (401, "SIGN_ERROR")
    assert fake_wechat.auth_failures == ["signature does not verify with the merchant public key"]
    assert fake_wechat.orders == {}
    # and an unsigned request
    r = requests.post(fake_wechat.url + "/v3/pay/transactions/jsapi", json={}, timeout=5)
    assert r.status_code == 401 and r.json()["code"] == "SIGN_ERROR"


@pytest.mark.parametrize("tamper", ["forged_signature", "altered_body", "unknown_serial"])
def test_responses_with_a_bad_signature_are_refused(fake_wechat, wx_pay_any, tamper):
    fake_wechat.response_tamper = tamper
    with pytest.raises(ResponseSignatureError) as exc:
        _order(wx_pay_any)
    assert exc.value.code == "RESPONSE_SIGNATURE_INVALID"
    assert "O20261123000001" in fake_wechat.orders  # the fake did answer; our client refused the answer
    fake_wechat.response_tamper = None
    assert wx_pay_any.query_order("O20261123000001")["trade_state"] == "NOTPAY"  # control


def test_certificate_mode_downloads_the_platform_certificate(fake_wechat, wx_keys, tmp_path):
    fake_wechat.signing_mode = "certificate"
    cert_dir = tmp_path / "certs"
    pay = WeChatPayClient(**fake_wechat.pay_config("certificate", cert_dir=str(cert_dir)))
    assert pay.mode == "certificate"
    assert fake_wechat.calls["/v3/certificates"] == 1
    assert (cert_dir / f"{wx_keys.cert_serial}.pem").read_text() == wx_keys.cert_pem
    _order(pay)
    assert fake_wechat.calls["/v3/certificates"] == 1


def test_certificate_mode_with_a_seeded_cert_dir_does_not_download(fake_wechat, tmp_path):
    fake_wechat.signing_mode = "certificate"
    fake_wechat.seed_cert_dir(str(tmp_path))
    pay = WeChatPayClient(**fake_wechat.pay_config("certificate", cert_dir=str(tmp_path)))
    _order(pay)
    assert fake_wechat.calls["/v3/certificates"] == 0


def test_certificate_mode_with_the_wrong_apiv3_key_finds_no_certificate(fake_wechat, tmp_path):
    cfg = dict(fake_wechat.pay_config("certificate", cert_dir=str(tmp_path / "c")), apiv3_key="x" * 32)
    with pytest.raises(WeChatPayError) as exc:
        WeChatPayClient(**cfg)
    assert exc.value.code == "NO_PLATFORM_CERTIFICATE"
    assert not os.path.exists(tmp_path / "c") or not os.listdir(tmp_path / "c")


def test_key_modes_are_not_mixed(fake_wechat, tmp_path):
    pk = fake_wechat.pay_config("public_key")
    with pytest.raises(ValueError):
        WeChatPayClient(**pk, cert_dir=str(tmp_path))
    with pytest.raises(ValueError):
        WeChatPayClient(**dict(pk, public_key_id=None))
    with pytest.raises(ValueError):
        WeChatPayClient(**dict(pk, public_key=None, public_key_id=None))
    with pytest.raises(ValueError):
        WeChatPayClient(**dict(pk, apiv3_key="short"))


def test_argument_validation(wx_pay):
    with pytest.raises(ValueError):
        _order(wx_pay, fen=0)
    with pytest.raises(ValueError):
        _order(wx_pay, fen=19.9)
    with pytest.raises(ValueError):
        _order(wx_pay, no="bad no!")
    with pytest.raises(ValueError):
        wx_pay.refund("O20261123000001", "R1", 200, 100)
