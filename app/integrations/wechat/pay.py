"""WeChat Pay API v3 (JSAPI, direct merchant) over ``wechatpayv3.WeChatPay``.

Two key modes, never mixed:

* public-key mode (merchants onboarded since late 2024): ``public_key`` (PEM) + ``public_key_id`` (``PUB_KEY_ID_...``);
* certificate mode: ``cert_dir``; platform certificates are loaded from it, or downloaded (``/v3/certificates``,
  AES-GCM-encrypted with the API v3 key) and saved into it when it holds none.

Every API response is signature-checked by wechatpayv3 (2xx only); failures raise :class:`ResponseSignatureError`.
HTTP errors (wechatpayv3 returns ``(status, text)`` and never raises) become :class:`WeChatPayError`.
Notifications: :meth:`WeChatPayClient.parse_notification` verifies the signature, refuses stale timestamps and
decrypts the resource. Deduplicating by ``Notification.id`` / out_trade_no is the caller's job.
"""
from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

import requests
from cryptography.hazmat.primitives import serialization
from wechatpayv3 import WeChatPay, WeChatPayType
from wechatpayv3.core import Core
from wechatpayv3.utils import format_private_key

PAY_GATEWAY = "https://api.mch.weixin.qq.com"
NOTIFICATION_TOLERANCE = 300  # seconds; WeChat's own recommendation is 5 minutes
SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
_OUT_TRADE_NO_RE = re.compile(r"^[A-Za-z0-9_\-|*]{6,32}$")
_OUT_REFUND_NO_RE = re.compile(r"^[A-Za-z0-9_\-|*@]{1,64}$")
_NOTIFY_HEADERS = ("Wechatpay-Signature", "Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Serial",
                   "Wechatpay-Signature-Type")


class WeChatPayError(Exception):
    """``status``: HTTP status (None when no usable response); ``code``: WeChat's error code, e.g. ORDER_NOT_EXIST,
    ORDERPAID, PARAM_ERROR, SIGN_ERROR, NOT_ENOUGH, or ours: NETWORK_ERROR, RESPONSE_SIGNATURE_INVALID, BAD_RESPONSE."""

    def __init__(self, status: int | None, code: str, message: str = ""):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class ResponseSignatureError(WeChatPayError):
    """A 2xx response whose ``Wechatpay-Signature`` did not verify: do not trust its content."""


class NotificationRejected(Exception):
    """``reason``: 'malformed' | 'stale' | 'bad_signature' | 'undecryptable'. Answer WeChat with a 4xx/5xx."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Notification:
    id: str
    event_type: str  # TRANSACTION.SUCCESS, REFUND.SUCCESS, REFUND.ABNORMAL, REFUND.CLOSED
    resource: dict  # decrypted: the transaction / refund object
    create_time: str | None = None
    summary: str | None = None
    envelope: dict = field(default_factory=dict, repr=False)  # the outer JSON (resource still encrypted)


class _GatewayCore(Core):
    """``Core`` that talks to ``gateway`` already during construction (certificate mode downloads
    ``/v3/certificates`` from inside ``__init__``, before ``_gate_way`` could be overridden from outside)."""

    def __init__(self, gateway: str, **kwargs):
        self._gateway_override = gateway
        super().__init__(**kwargs)
        self._gate_way = gateway

    def _init_certificates(self):
        self._gate_way = self._gateway_override
        super()._init_certificates()


def _rfc3339(value: datetime | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if value.tzinfo is None:
        raise ValueError("time_expire must be timezone-aware")
    return value.isoformat(timespec="seconds")


def _normalise_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Case-insensitive lookup of the Wechatpay-* headers; accepts dicts, werkzeug/requests headers, WSGI environ."""
    lowered: dict[str, str] = {}
    for key, value in headers.items():
        k = str(key).lower().replace("_", "-")
        if k.startswith("http-"):
            k = k[5:]
        lowered[k] = value
    return {name: lowered[name.lower()] for name in _NOTIFY_HEADERS if name.lower() in lowered}


class WeChatPayClient:
    def __init__(self, *, mchid: str, appid: str, private_key: str, cert_serial_no: str, apiv3_key: str,
                 public_key: str | None = None, public_key_id: str | None = None, cert_dir: str | None = None,
                 gateway: str | None = None, timeout: float | tuple = (3.05, 10),
                 notification_tolerance: int = NOTIFICATION_TOLERANCE, logger=None):
        pk_mode = public_key is not None or public_key_id is not None
        if pk_mode and cert_dir:
            raise ValueError("give either public_key + public_key_id, or cert_dir; not both")
        if pk_mode and not (public_key and public_key_id):
            raise ValueError("public-key mode needs both public_key and public_key_id")
        if not pk_mode and not cert_dir:
            raise ValueError("give public_key + public_key_id (public-key mode) or cert_dir (certificate mode)")
        if len(apiv3_key.encode()) != 32:
            raise ValueError("apiv3_key must be 32 bytes")
        self.mchid = mchid
        self.appid = appid
        self.mode = "public_key" if pk_mode else "certificate"
        self.gateway = (gateway or PAY_GATEWAY).rstrip("/")
        self.notification_tolerance = notification_tolerance
        common = dict(mchid=mchid, private_key=private_key, cert_serial_no=cert_serial_no, apiv3_key=apiv3_key,
                      logger=logger, timeout=timeout)
        if pk_mode:
            self._wp = WeChatPay(wechatpay_type=WeChatPayType.JSAPI, appid=appid, public_key=public_key,
                                 public_key_id=public_key_id, **common)
            self._wp._core._gate_way = self.gateway
        else:
            # Build the WeChatPay shell without network (public-key mode, the merchant's own public key as a
            # placeholder, no private key), then give it a certificate-mode core that downloads from our gateway.
            own_public = serialization.load_pem_private_key(
                format_private_key(private_key).encode(), password=None, unsafe_skip_rsa_key_validation=True,
            ).public_key().public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo).decode()
            self._wp = WeChatPay(wechatpay_type=WeChatPayType.JSAPI, appid=appid, public_key=own_public,
                                 public_key_id="placeholder", **dict(common, private_key=None))
            try:
                self._wp._core = _GatewayCore(self.gateway, cert_dir=cert_dir, **common)
            except requests.RequestException as exc:
                raise WeChatPayError(None, "NETWORK_ERROR", f"downloading platform certificates: {exc}") from exc
            except Exception as exc:  # wechatpayv3: 'No wechatpay platform certificate, ...'
                raise WeChatPayError(None, "NO_PLATFORM_CERTIFICATE", str(exc)) from exc

    # ------------------------------------------------------------------ plumbing
    def _call(self, fn, *args, **kwargs) -> Any:
        try:
            status, body = fn(*args, **kwargs)
        except requests.RequestException as exc:
            raise WeChatPayError(None, "NETWORK_ERROR", exc.__class__.__name__) from exc
        except ValueError as exc:  # int('0x' + serial) on a non-hex Wechatpay-Serial
            raise ResponseSignatureError(None, "RESPONSE_SIGNATURE_INVALID", f"bad serial: {exc}") from exc
        except Exception as exc:  # wechatpayv3 raises bare Exception: 'failed to verify the signature', ...
            msg = str(exc)
            if "signature" in msg or "algorithm" in msg:
                raise ResponseSignatureError(None, "RESPONSE_SIGNATURE_INVALID", msg) from exc
            raise WeChatPayError(None, "CLIENT_ERROR", msg) from exc
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        if 200 <= status < 300:
            if not body:
                return {}
            try:
                return json.loads(body)
            except ValueError as exc:
                raise WeChatPayError(status, "BAD_RESPONSE", "response is not JSON") from exc
        # NB: wechatpayv3 does not verify signatures of error responses: treat code/message as informative only.
        code, message = "HTTP_%d" % status, body[:500] if body else ""
        try:
            data = json.loads(body)
            code, message = data.get("code", code), data.get("message", message)
        except (ValueError, AttributeError):
            pass
        raise WeChatPayError(status, code, message)

    @staticmethod
    def _check_no(value: str, what: str) -> None:
        rule = _OUT_REFUND_NO_RE if what == "out_refund_no" else _OUT_TRADE_NO_RE
        if not isinstance(value, str) or not rule.match(value):
            raise ValueError(f"{what} has an invalid format (out_trade_no: 6-32 of [A-Za-z0-9_-|*])")

    @staticmethod
    def _check_fen(value: int, what: str) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"{what} must be a positive int (fen)")

    # ------------------------------------------------------------------ API
    def sign_jsapi(self, prepay_id: str, *, timestamp: int | None = None, nonce_str: str | None = None) -> dict:
        """Parameters for ``WeixinJSBridge.invoke('getBrandWCPayRequest', ...)`` / ``wx.chooseWXPay`` (then
        ``timestamp``), signed with the merchant key: RSA-SHA256 over appId, timeStamp, nonceStr, package."""
        time_stamp = str(int(time.time()) if timestamp is None else int(timestamp))
        nonce = nonce_str or secrets.token_hex(16)
        package = f"prepay_id={prepay_id}"
        pay_sign = self._wp.sign([self.appid, time_stamp, nonce, package])
        return {"appId": self.appid, "timeStamp": time_stamp, "nonceStr": nonce, "package": package,
                "signType": "RSA", "paySign": pay_sign}

    def create_jsapi_order(self, out_trade_no: str, description: str, amount_fen: int, payer_openid: str,
                           notify_url: str, time_expire: datetime | str | None = None,
                           attach: str | None = None) -> dict:
        """JSAPI 下单 then sign: returns the WeixinJSBridge parameters (``package`` = ``prepay_id=...``).

        The prepay_id is valid for 2 hours; keep it (from ``package``) and :meth:`sign_jsapi` again to retry."""
        self._check_no(out_trade_no, "out_trade_no")
        self._check_fen(amount_fen, "amount_fen")
        if not description or len(description) > 127:
            raise ValueError("description must be 1-127 characters")
        if not payer_openid:
            raise ValueError("payer_openid is required")
        if not notify_url:
            raise ValueError("notify_url is required")
        data = self._call(self._wp.pay, description=description, out_trade_no=out_trade_no,
                          amount={"total": amount_fen, "currency": "CNY"}, payer={"openid": payer_openid},
                          time_expire=_rfc3339(time_expire), attach=attach, notify_url=notify_url,
                          pay_type=WeChatPayType.JSAPI)
        prepay_id = data.get("prepay_id")
        if not prepay_id:
            raise WeChatPayError(200, "BAD_RESPONSE", "no prepay_id in response")
        return self.sign_jsapi(prepay_id)

    def query_order(self, out_trade_no: str) -> dict:
        """The transaction (trade_state: SUCCESS, REFUND, NOTPAY, CLOSED, REVOKED, USERPAYING, PAYERROR)."""
        self._check_no(out_trade_no, "out_trade_no")
        return self._call(self._wp.query, out_trade_no=out_trade_no)

    def close_order(self, out_trade_no: str) -> None:
        self._check_no(out_trade_no, "out_trade_no")
        self._call(self._wp.close, out_trade_no=out_trade_no)

    def refund(self, out_trade_no: str, out_refund_no: str, amount_fen: int, total_fen: int,
               reason: str | None = None, notify_url: str | None = None) -> dict:
        """申请退款; returns the refund (status PROCESSING / SUCCESS / ...). Partial refunds: amount < total."""
        self._check_no(out_trade_no, "out_trade_no")
        self._check_no(out_refund_no, "out_refund_no")
        self._check_fen(amount_fen, "amount_fen")
        self._check_fen(total_fen, "total_fen")
        if amount_fen > total_fen:
            raise ValueError("refund amount exceeds order total")
        return self._call(self._wp.refund, out_refund_no=out_refund_no, out_trade_no=out_trade_no,
                          amount={"refund": amount_fen, "total": total_fen, "currency": "CNY"},
                          reason=reason or None, notify_url=notify_url or None)

    def query_refund(self, out_refund_no: str) -> dict:
        self._check_no(out_refund_no, "out_refund_no")
        return self._call(self._wp.query_refund, out_refund_no=out_refund_no)

    # ------------------------------------------------------------------ notifications
    def parse_notification(self, headers: Mapping[str, str], raw_body: bytes | str,
                           now: float | datetime | None = None) -> Notification:
        """Verify (signature with the platform key), check freshness, decrypt. Pass the raw request body.

        Raises :class:`NotificationRejected`. ``now`` defaults to the current time (epoch seconds or datetime)."""
        try:
            body = raw_body.decode("utf-8") if isinstance(raw_body, (bytes, bytearray)) else str(raw_body)
        except UnicodeDecodeError:
            raise NotificationRejected("malformed", "body is not UTF-8") from None
        h = _normalise_headers(headers)
        missing = [n for n in _NOTIFY_HEADERS[:4] if not h.get(n)]
        if missing:
            raise NotificationRejected("malformed", "missing " + ", ".join(missing))
        # wechatpayv3 raises if the type header is absent; WeChat sends it, and RSA is the only type we accept
        h.setdefault("Wechatpay-Signature-Type", SIGNATURE_TYPE)
        if h["Wechatpay-Signature-Type"] != SIGNATURE_TYPE:
            raise NotificationRejected("malformed", "unsupported signature type")
        try:
            ts = int(h["Wechatpay-Timestamp"])
        except ValueError:
            raise NotificationRejected("malformed", "bad timestamp") from None
        if now is None:
            now_ts = time.time()
        elif isinstance(now, datetime):
            now_ts = now.timestamp()
        else:
            now_ts = float(now)
        if abs(now_ts - ts) > self.notification_tolerance:
            raise NotificationRejected("stale", f"timestamp {ts} is {int(now_ts - ts)}s off")
        core = self._wp._core
        try:
            signature_ok = core._verify_signature(h, body)
        except Exception as exc:  # e.g. a non-hex serial in certificate mode
            raise NotificationRejected("bad_signature", str(exc)) from exc
        if not signature_ok:
            raise NotificationRejected("bad_signature")
        try:
            data = self._wp.callback(h, body)  # verifies again, then AES-256-GCM-decrypts the resource
        except Exception as exc:
            raise NotificationRejected("malformed", str(exc)) from exc
        if not data or not isinstance(data.get("resource"), dict):
            raise NotificationRejected("undecryptable", "resource missing or does not decrypt with the API v3 key")
        if not data.get("id") or not data.get("event_type"):
            raise NotificationRejected("malformed", "id/event_type missing")
        return Notification(id=data["id"], event_type=data["event_type"], resource=data["resource"],
                            create_time=data.get("create_time"), summary=data.get("summary"),
                            envelope=json.loads(body))
