"""A local fake WeChat that speaks the real wire protocol (official-account API + WeChat Pay API v3).

One threaded werkzeug server on 127.0.0.1 (random port). It is a protocol peer, not a mock of our code:

* ``/cgi-bin/token`` (a newer token ends the older ones after ``token_grace`` seconds, as WeChat does),
  ``/cgi-bin/ticket/getticket``, ``/sns/oauth2/access_token``, ``/sns/userinfo`` answer with the
  real JSON shapes and errcodes (40013, 40125, 40029, 40163, 41008, 40001, 40003, 48001);
* ``/v3/...`` checks the merchant's ``Authorization: WECHATPAY2-SHA256-RSA2048 ...`` signature with the merchant's
  public key (401 SIGN_ERROR otherwise) and signs every response with the platform key (public-key mode: the
  "WeChat Pay public key", serial = public key id; certificate mode: a self-signed platform certificate);
* :meth:`FakeWeChat.build_notification` builds payment/refund notifications exactly as WeChat does (AES-256-GCM
  resource under the API v3 key, RSA-SHA256-signed headers), with knobs to tamper with them.

Usage::

    keys = default_keys()                       # RSA keys + platform certificate, generated once per process
    with FakeWeChat(keys) as fake:              # .start() / .stop() also work
        fake.register_code("CODE1", "openid-1")
        fake.url                                # http://127.0.0.1:<port>; pass as api_base / gateway
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
import secrets
import socket
import struct
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

CST = dt.timezone(dt.timedelta(hours=8))
SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"


# ---------------------------------------------------------------------------------------------------------- keys
def _pem_private(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _pem_public(key) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def rsa_sign(private_key, message: str) -> str:
    return base64.b64encode(private_key.sign(message.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())).decode()


def rsa_verify(public_key, message: str, signature_b64: str) -> bool:
    try:
        public_key.verify(base64.b64decode(signature_b64), message.encode("utf-8"), padding.PKCS1v15(),
                          hashes.SHA256())
        return True
    except (InvalidSignature, ValueError, TypeError):
        return False


def aes_gcm_encrypt(apiv3_key: str, plaintext: str, associated_data: str, nonce: str | None = None) -> dict:
    """The ``resource`` / ``encrypt_certificate`` object: AEAD_AES_256_GCM, ciphertext = base64(ct || tag)."""
    nonce = nonce or secrets.token_hex(6)  # WeChat uses 12-character nonces
    ct = AESGCM(apiv3_key.encode()).encrypt(nonce.encode(), plaintext.encode("utf-8"), associated_data.encode())
    return {"algorithm": "AEAD_AES_256_GCM", "ciphertext": base64.b64encode(ct).decode(), "nonce": nonce,
            "associated_data": associated_data}


@dataclass(frozen=True)
class FakeKeys:
    merchant_key: object           # merchant API private key (apiclient_key.pem)
    merchant_private_pem: str
    merchant_public_pem: str
    merchant_serial: str           # merchant API certificate serial (cert_serial_no)
    platform_key: object           # "WeChat Pay public key" mode
    platform_public_pem: str
    public_key_id: str
    cert_key: object               # platform-certificate mode
    cert_pem: str
    cert_serial: str               # upper-case hex, as in Wechatpay-Serial
    attacker_key: object           # signs forged responses / notifications

    @property
    def merchant_public_key(self):
        return self.merchant_key.public_key()


def generate_keys() -> FakeKeys:
    def new():
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)

    merchant, platform, cert_key, attacker = new(), new(), new(), new()
    now = dt.datetime.now(dt.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Tenpay.com (fake)"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "Tenpay.com platform certificate (fake)")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(cert_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=365))
            .sign(cert_key, hashes.SHA256()))
    return FakeKeys(
        merchant_key=merchant, merchant_private_pem=_pem_private(merchant), merchant_public_pem=_pem_public(merchant),
        merchant_serial=secrets.token_hex(20).upper(),
        platform_key=platform, platform_public_pem=_pem_public(platform),
        public_key_id="PUB_KEY_ID_" + secrets.token_hex(14).upper(),
        cert_key=cert_key, cert_pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
        cert_serial=format(cert.serial_number, "X"),
        attacker_key=attacker,
    )


@lru_cache(maxsize=1)
def default_keys() -> FakeKeys:
    """Keys generated once per process (2048-bit RSA generation is the slow part)."""
    return generate_keys()


def _now_rfc3339() -> str:
    return dt.datetime.now(CST).replace(microsecond=0).isoformat()


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # keep test output clean
        pass


_AUTH_RE = re.compile(r'^WECHATPAY2-SHA256-RSA2048 (.+)$')
_AUTH_PARAM_RE = re.compile(r'(\w+)="([^"]*)"')


# ---------------------------------------------------------------------------------------------------------- server
class FakeWeChat:
    """Fake WeChat (official account + Pay v3). All state is in memory; :meth:`reset` clears it."""

    def __init__(self, keys: FakeKeys | None = None, *, appid: str = "wxfake0123456789a",
                 secret: str = "fake-app-secret-0123456789abcdef", mchid: str = "1900000109",
                 apiv3_key: str = "fakeApiV3Key0123456789abcdefABCD", signing_mode: str = "public_key"):
        self.keys = keys or default_keys()
        self.appid, self.secret, self.mchid, self.apiv3_key = appid, secret, mchid, apiv3_key
        assert len(apiv3_key.encode()) == 32
        self._lock = threading.RLock()
        self._server = None
        self._thread = None
        self.signing_mode = signing_mode
        self.reset()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> "FakeWeChat":
        self._server = make_server("127.0.0.1", 0, self.wsgi_app, threaded=True, request_handler=_QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-wechat", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def reset(self) -> None:
        """Forget all codes, tokens, orders and refunds; restore default knobs (signing_mode is kept)."""
        with self._lock:
            self.calls: Counter = Counter()          # path -> number of requests
            self.auth_failures: list[str] = []     # why /v3 requests were refused (SIGN_ERROR)
            self.pay_requests: list[dict] = []     # {method, uri, headers, body} of every /v3 request
            self.response_tamper: str | None = None  # None | 'forged_signature' | 'altered_body' | 'unknown_serial'
            # token -> None while it is the newest, else the time it stops working: fetching a new token
            # ends the previous ones `token_grace` seconds later, as WeChat does (five minutes).
            self.access_tokens: dict[str, float | None] = {}
            self.token_grace = 300.0
            self.jsapi_ticket = "fake-ticket-" + secrets.token_urlsafe(24)
            self.codes: dict[str, dict] = {}
            self.sns_tokens: dict[str, dict] = {}
            self.users: dict[str, dict] = {}
            self.orders: dict[str, dict] = {}
            self.refunds: dict[str, dict] = {}
            self.faults: list[dict] = []           # programmed failures, see fault()
            self.refund_requests: list[str] = []   # out_refund_no of every refund request, failed ones too
            self.refunds_created: Counter = Counter()  # out_refund_no -> refunds made (money moved): must stay 1
            self.close_requests: list[str] = []    # out_trade_no of every close request, failed ones too
            self.closed: list[str] = []            # out_trade_no of every order a close request closed (204)
            self.template_messages: list[dict] = []  # every template message sent: {touser, template_id, url, data}
            self.unsubscribed: set[str] = set()      # openids that do not follow the account (errcode 43004)

    # ------------------------------------------------------------------ test-side helpers (official account)
    def register_code(self, code: str, openid: str, *, scope: str = "snsapi_base", unionid: str | None = None,
                      snapshot: bool = False) -> None:
        """Make ``code`` exchangeable (once) for ``openid``; as if the user had gone through authorisation."""
        with self._lock:
            self.codes[code] = {"openid": openid, "scope": scope, "unionid": unionid, "used": False,
                                "snapshot": snapshot}

    def set_user(self, openid: str, *, nickname: str = "", headimgurl: str = "", unionid: str | None = None,
                 sex: int = 0, province: str = "", city: str = "", country: str = "") -> None:
        with self._lock:
            self.users[openid] = {"nickname": nickname, "headimgurl": headimgurl, "unionid": unionid, "sex": sex,
                                  "province": province, "city": city, "country": country}

    def _token_valid(self, token: str | None) -> bool:
        if token not in self.access_tokens:
            return False
        until = self.access_tokens[token]
        return until is None or time.monotonic() < until

    def expire_access_tokens(self) -> None:
        """Invalidate every issued ``/cgi-bin/token`` token (the next API call answers errcode 40001)."""
        with self._lock:
            self.access_tokens.clear()

    # ------------------------------------------------------------------ test-side helpers (pay)
    PAY_OPERATIONS = ("jsapi", "query", "close", "refund", "query_refund", "certificates")

    def fault(self, operation: str, mode: str = "500", *, times: int = 1, seconds: float = 3.0) -> None:
        """The next `times` Pay v3 requests to `operation` (one of PAY_OPERATIONS, or "*") fail, in `mode`:

        * "500": answered HTTP 500 ``SYSTEM_ERROR`` (signed, as WeChat does); nothing is done;
        * "hang": held for `seconds` (past the client's timeout), then done and answered: the client gave up,
          but the work happened (an order made, a refund's money moved);
        * "reset": the connection is reset before anything is done; no answer at all.
        """
        if operation != "*" and operation not in self.PAY_OPERATIONS:
            raise ValueError(f"unknown operation {operation!r}")
        if mode not in ("500", "hang", "reset"):
            raise ValueError(f"unknown fault mode {mode!r}")
        with self._lock:
            self.faults.append({"operation": operation, "mode": mode, "left": times, "seconds": seconds})

    def _take_fault(self, operation: str | None) -> dict | None:
        with self._lock:
            for f in self.faults:
                if f["left"] > 0 and f["operation"] in ("*", operation):
                    f["left"] -= 1
                    return dict(f)
        return None

    @staticmethod
    def _operation(request: Request) -> str | None:
        path, method = request.path, request.method
        if path == "/v3/certificates":
            return "certificates"
        if path == "/v3/pay/transactions/jsapi":
            return "jsapi"
        if path.startswith("/v3/pay/transactions/out-trade-no/"):
            return "close" if path.endswith("/close") else "query"
        if path == "/v3/refund/domestic/refunds" and method == "POST":
            return "refund"
        if path.startswith("/v3/refund/domestic/refunds/"):
            return "query_refund"
        return None

    def pay_config(self, mode: str | None = None, cert_dir: str | None = None) -> dict:
        """Merchant configuration matching this fake (keyword names of ``WeChatPayClient``)."""
        mode = mode or self.signing_mode
        cfg = {"mchid": self.mchid, "appid": self.appid, "private_key": self.keys.merchant_private_pem,
               "cert_serial_no": self.keys.merchant_serial, "apiv3_key": self.apiv3_key, "gateway": self.url}
        if mode == "public_key":
            cfg.update(public_key=self.keys.platform_public_pem, public_key_id=self.keys.public_key_id)
        else:
            cfg.update(cert_dir=cert_dir)
        return cfg

    def seed_cert_dir(self, cert_dir: str) -> str:
        """Write the platform certificate as ``<cert_dir>/<serial>.pem`` (what a previous download leaves)."""
        os.makedirs(cert_dir, exist_ok=True)
        path = os.path.join(cert_dir, self.keys.cert_serial + ".pem")
        with open(path, "w") as f:
            f.write(self.keys.cert_pem)
        return path

    def mark_paid(self, out_trade_no: str, success_time: str | None = None) -> dict:
        """The user paid: the order becomes SUCCESS; returns the transaction (the payment notification resource)."""
        with self._lock:
            order = self.orders[out_trade_no]
            order.update(trade_state="SUCCESS", trade_state_desc="支付成功", trade_type="JSAPI", bank_type="OTHERS",
                         transaction_id="4200" + secrets.token_hex(12)[:24],
                         success_time=success_time or _now_rfc3339())
            order["amount"]["payer_total"] = order["amount"]["total"]
            return self._transaction(order)

    def complete_refund(self, out_refund_no: str, status: str = "SUCCESS") -> dict:
        """The refund finished (SUCCESS / ABNORMAL / CLOSED); returns the refund notification resource."""
        with self._lock:
            refund = self.refunds[out_refund_no]
            refund["status"] = status
            if status == "SUCCESS":
                refund["success_time"] = _now_rfc3339()
                order = self.orders[refund["out_trade_no"]]
                order.update(trade_state="REFUND", trade_state_desc="转入退款")
            return {"mchid": self.mchid, "out_trade_no": refund["out_trade_no"],
                    "transaction_id": refund["transaction_id"], "out_refund_no": out_refund_no,
                    "refund_id": refund["refund_id"], "refund_status": status,
                    "success_time": refund.get("success_time"), "user_received_account": "支付用户零钱",
                    "amount": {"total": refund["amount"]["total"], "refund": refund["amount"]["refund"],
                               "payer_total": refund["amount"]["total"], "payer_refund": refund["amount"]["refund"]}}

    def payment_notification(self, out_trade_no: str, **knobs) -> tuple[dict, bytes]:
        """TRANSACTION.SUCCESS notification for a paid order (marks it paid first if needed)."""
        with self._lock:
            order = self.orders[out_trade_no]
            resource = self._transaction(order) if order["trade_state"] == "SUCCESS" else self.mark_paid(out_trade_no)
        return self.build_notification("TRANSACTION.SUCCESS", resource, **knobs)

    def refund_notification(self, out_refund_no: str, status: str = "SUCCESS", **knobs) -> tuple[dict, bytes]:
        resource = self.complete_refund(out_refund_no, status)
        return self.build_notification(f"REFUND.{status}", resource, **knobs)

    def build_notification(self, event_type: str, resource: dict, *, timestamp: int | None = None,
                           nonce: str | None = None, tamper: str | None = None, apiv3_key: str | None = None,
                           signing_mode: str | None = None, notification_id: str | None = None
                           ) -> tuple[dict, bytes]:
        """(headers, raw body) of a notification as WeChat POSTs it to ``notify_url``.

        Knobs: ``timestamp`` (e.g. ``time.time() - 360`` for a stale one; it is signed), ``tamper`` =
        'bad_signature' (signed by another key) | 'altered_body' (body changed after signing) | 'garbage_signature'
        (WeChat's own "WECHATPAY/SIGNTEST/" probe), ``apiv3_key`` (encrypt under another key), ``signing_mode``.
        """
        refund = event_type.startswith("REFUND.")
        original_type = "refund" if refund else "transaction"
        envelope = {
            "id": notification_id or str(uuid.uuid4()),
            "create_time": _now_rfc3339(),
            "resource_type": "encrypt-resource",
            "event_type": event_type,
            "summary": "退款成功" if refund else "支付成功",
            "resource": dict(original_type=original_type,
                             **aes_gcm_encrypt(apiv3_key or self.apiv3_key,
                                               json.dumps(resource, ensure_ascii=False, separators=(",", ":")),
                                               original_type)),
        }
        body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
        ts = str(int(time.time() if timestamp is None else timestamp))
        nonce = nonce or secrets.token_hex(16).upper()
        key, serial = self._signing_key(signing_mode)
        if tamper == "bad_signature":
            key = self.keys.attacker_key
        signature = rsa_sign(key, f"{ts}\n{nonce}\n{body}\n")
        if tamper == "garbage_signature":
            signature = "WECHATPAY/SIGNTEST/" + secrets.token_urlsafe(32)
        if tamper == "altered_body":
            body = body.replace(f'"event_type":"{event_type}"', f'"event_type":"{event_type}" ', 1)
            assert body != json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
        elif tamper not in (None, "bad_signature", "garbage_signature"):
            raise ValueError(f"unknown tamper {tamper!r}")
        headers = {"Content-Type": "application/json", "Wechatpay-Timestamp": ts, "Wechatpay-Nonce": nonce,
                   "Wechatpay-Signature": signature, "Wechatpay-Serial": serial,
                   "Wechatpay-Signature-Type": SIGNATURE_TYPE, "Request-ID": secrets.token_hex(16)}
        return headers, body.encode("utf-8")

    # ------------------------------------------------------------------ internals
    def _signing_key(self, mode: str | None = None):
        mode = mode or self.signing_mode
        if mode == "public_key":
            return self.keys.platform_key, self.keys.public_key_id
        if mode == "certificate":
            return self.keys.cert_key, self.keys.cert_serial
        raise ValueError(f"unknown signing mode {mode!r}")

    def _transaction(self, order: dict) -> dict:
        tx = {k: v for k, v in order.items() if k not in ("prepay_id", "notify_url", "description", "time_expire",
                                                              "_request")}
        tx["amount"] = dict(order["amount"])
        return tx

    def wsgi_app(self, environ, start_response):
        request = Request(environ)
        with self._lock:
            self.calls[request.path] += 1
        operation = self._operation(request) if request.path.startswith("/v3/") else None
        if operation == "refund":
            with self._lock:
                try:
                    self.refund_requests.append(json.loads(request.get_data()).get("out_refund_no"))
                except ValueError:
                    self.refund_requests.append(None)
        if operation == "close":
            with self._lock:
                self.close_requests.append(request.path.split("/")[-2])
        fault = self._take_fault(operation) if operation else None
        if fault is not None and fault["mode"] == "reset":
            sock = environ.get("werkzeug.socket")
            if sock is not None:  # closed under the handler's feet: the client reads no answer at all
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.shutdown(socket.SHUT_RDWR)
            raise ConnectionResetError("fake WeChat: connection reset (programmed fault)")
        if fault is not None and fault["mode"] == "500":
            return self._error(500, "SYSTEM_ERROR", "系统繁忙，请稍后重试")(environ, start_response)
        if fault is not None and fault["mode"] == "hang":
            time.sleep(fault["seconds"])
        try:
            if request.path.startswith("/v3/"):
                response = self._pay(request, environ)
            else:
                response = self._mp(request)
        except Exception as exc:  # a bug in the fake should be loud, not a hang
            response = Response(json.dumps({"errcode": -1, "errmsg": f"fake error: {exc!r}"}), 500,
                                content_type="application/json")
        return response(environ, start_response)

    # ------------------------------------------------------------------ official account endpoints
    @staticmethod
    def _mp_json(data: dict) -> Response:
        if data.get("errcode"):
            data["errmsg"] = f'{data["errmsg"]} rid: {secrets.token_hex(4)}-{secrets.token_hex(6)}'
        return Response(json.dumps(data, ensure_ascii=False), 200, content_type="application/json; encoding=utf-8")

    def _mp(self, request: Request) -> Response:
        a = request.args
        path = request.path
        with self._lock:
            if path == "/cgi-bin/token":
                if a.get("grant_type") != "client_credential":
                    return self._mp_json({"errcode": 40002, "errmsg": "invalid grant_type"})
                if a.get("appid") != self.appid:
                    return self._mp_json({"errcode": 40013, "errmsg": "invalid appid"})
                if a.get("secret") != self.secret:
                    return self._mp_json({"errcode": 40125, "errmsg": "invalid appsecret"})
                token = "ACCESS_TOKEN_" + secrets.token_urlsafe(32)
                ends = time.monotonic() + self.token_grace
                for old, until in self.access_tokens.items():
                    if until is None:
                        self.access_tokens[old] = ends
                self.access_tokens[token] = None
                return self._mp_json({"access_token": token, "expires_in": 7200})
            if path == "/cgi-bin/ticket/getticket":
                if not self._token_valid(a.get("access_token")):
                    return self._mp_json({"errcode": 40001,
                                          "errmsg": "invalid credential, access_token is invalid or not latest"})
                if a.get("type") != "jsapi":
                    return self._mp_json({"errcode": 40097, "errmsg": "invalid args"})
                return self._mp_json({"errcode": 0, "errmsg": "ok", "ticket": self.jsapi_ticket, "expires_in": 7200})
            if path == "/sns/oauth2/access_token":
                if a.get("appid") != self.appid:
                    return self._mp_json({"errcode": 40013, "errmsg": "invalid appid"})
                if a.get("secret") != self.secret:
                    return self._mp_json({"errcode": 40125, "errmsg": "invalid appsecret"})
                if a.get("grant_type") != "authorization_code":
                    return self._mp_json({"errcode": 40002, "errmsg": "invalid grant_type"})
                code = a.get("code")
                if not code:
                    return self._mp_json({"errcode": 41008, "errmsg": "missing code"})
                grant = self.codes.get(code)
                if grant is None:
                    return self._mp_json({"errcode": 40029, "errmsg": "invalid code"})
                if grant["used"]:
                    return self._mp_json({"errcode": 40163, "errmsg": "code been used"})
                grant["used"] = True
                token = "SNS_" + secrets.token_urlsafe(32)
                self.sns_tokens[token] = {"openid": grant["openid"], "scope": grant["scope"]}
                data = {"access_token": token, "expires_in": 7200, "refresh_token": "REFRESH_" + secrets.token_urlsafe(24),
                        "openid": grant["openid"], "scope": grant["scope"]}
                if grant["unionid"]:
                    data["unionid"] = grant["unionid"]
                if grant["snapshot"]:
                    data["is_snapshotuser"] = 1
                return self._mp_json(data)
            if path == "/cgi-bin/message/template/send":
                if not self._token_valid(a.get("access_token")):
                    return self._mp_json({"errcode": 40001,
                                          "errmsg": "invalid credential, access_token is invalid or not latest"})
                body = json.loads(request.get_data() or b"{}")
                if not body.get("touser") or not body.get("template_id"):
                    return self._mp_json({"errcode": 40003, "errmsg": "invalid openid"})
                if body["touser"] in self.unsubscribed:
                    return self._mp_json({"errcode": 43004, "errmsg": "require subscribe"})
                self.template_messages.append(body)
                return self._mp_json({"errcode": 0, "errmsg": "ok", "msgid": 200000 + len(self.template_messages)})
            if path == "/sns/userinfo":
                grant = self.sns_tokens.get(a.get("access_token", ""))
                if grant is None:
                    return self._mp_json({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"})
                if a.get("openid") != grant["openid"]:
                    return self._mp_json({"errcode": 40003, "errmsg": "invalid openid"})
                if grant["scope"] != "snsapi_userinfo":
                    return self._mp_json({"errcode": 48001, "errmsg": "api unauthorized"})
                user = self.users.get(grant["openid"], {})
                data = {"openid": grant["openid"], "nickname": user.get("nickname", "微信用户"),
                        "sex": user.get("sex", 0), "province": user.get("province", ""),
                        "city": user.get("city", ""), "country": user.get("country", ""),
                        "headimgurl": user.get("headimgurl", ""), "privilege": []}
                if user.get("unionid"):
                    data["unionid"] = user["unionid"]
                return self._mp_json(data)
        return Response("not found", 404)

    # ------------------------------------------------------------------ pay v3 endpoints
    def _signed(self, status: int, data: dict | None, mode: str | None = None) -> Response:
        """A v3 response signed by the platform (``mode`` overrides ``signing_mode``)."""
        body = "" if data is None else json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        ts, nonce = str(int(time.time())), secrets.token_hex(16).upper()
        key, serial = self._signing_key(mode)
        tamper = self.response_tamper
        if tamper == "forged_signature":
            key = self.keys.attacker_key
        signature = rsa_sign(key, f"{ts}\n{nonce}\n{body}\n")
        if tamper == "altered_body" and body:
            body = body.replace(":", ": ", 1)
        if tamper == "unknown_serial":
            serial = "PUB_KEY_ID_UNKNOWN0000" if serial.startswith("PUB_KEY_ID_") else "0BADC0FFEE"
        headers = {"Wechatpay-Timestamp": ts, "Wechatpay-Nonce": nonce, "Wechatpay-Signature": signature,
                   "Wechatpay-Serial": serial, "Wechatpay-Signature-Type": SIGNATURE_TYPE,
                   "Request-ID": secrets.token_hex(16)}
        if data is None:
            return Response(b"", status, headers=headers)
        return Response(body.encode("utf-8"), status, headers=headers, content_type="application/json")

    def _error(self, status: int, code: str, message: str) -> Response:
        return self._signed(status, {"code": code, "message": message})

    def _check_authorization(self, request: Request, environ, raw_body: str) -> str | None:
        """None if the merchant signature is valid, else the reason."""
        m = _AUTH_RE.match(request.headers.get("Authorization", ""))
        if not m:
            return "missing or non-WECHATPAY2-SHA256-RSA2048 Authorization"
        params = dict(_AUTH_PARAM_RE.findall(m.group(1)))
        for name in ("mchid", "nonce_str", "signature", "timestamp", "serial_no"):
            if not params.get(name):
                return f"Authorization without {name}"
        if params["mchid"] != self.mchid:
            return "unknown mchid"
        if params["serial_no"] != self.keys.merchant_serial:
            return "unknown merchant certificate serial_no"
        try:
            if abs(time.time() - int(params["timestamp"])) > 300:
                return "timestamp expired"
        except ValueError:
            return "bad timestamp"
        uri = environ.get("RAW_URI") or environ.get("REQUEST_URI") or request.full_path.rstrip("?")
        message = f'{request.method}\n{uri}\n{params["timestamp"]}\n{params["nonce_str"]}\n{raw_body}\n'
        if not rsa_verify(self.keys.merchant_public_key, message, params["signature"]):
            return "signature does not verify with the merchant public key"
        return None

    def _pay(self, request: Request, environ) -> Response:
        raw = request.get_data()
        try:
            raw_body = raw.decode("utf-8")
        except UnicodeDecodeError:
            return self._error(400, "PARAM_ERROR", "body is not UTF-8")
        with self._lock:
            self.pay_requests.append({"method": request.method, "uri": environ.get("RAW_URI"),
                                      "headers": dict(request.headers), "body": raw_body})
            reason = self._check_authorization(request, environ, raw_body)
            if reason:
                self.auth_failures.append(reason)
                return self._error(401, "SIGN_ERROR", f"签名错误: {reason}")
            try:
                body = json.loads(raw_body) if raw_body else {}
            except ValueError:
                return self._error(400, "PARAM_ERROR", "body is not JSON")
            path, method = request.path, request.method
            if path == "/v3/certificates" and method == "GET":
                return self._certificates()
            if path == "/v3/pay/transactions/jsapi" and method == "POST":
                return self._jsapi(body)
            m = re.fullmatch(r"/v3/pay/transactions/out-trade-no/([^/]+)", path)
            if m and method == "GET":
                if request.args.get("mchid") != self.mchid:
                    return self._error(400, "PARAM_ERROR", "mchid mismatch")
                order = self.orders.get(m.group(1))
                if order is None:
                    return self._error(404, "ORDER_NOT_EXIST", "订单不存在")
                return self._signed(200, self._transaction(order))
            m = re.fullmatch(r"/v3/pay/transactions/out-trade-no/([^/]+)/close", path)
            if m and method == "POST":
                if body.get("mchid") != self.mchid:
                    return self._error(400, "PARAM_ERROR", "mchid mismatch")
                order = self.orders.get(m.group(1))
                if order is None:
                    return self._error(404, "ORDER_NOT_EXIST", "订单不存在")
                if order["trade_state"] in ("SUCCESS", "REFUND"):
                    return self._error(400, "ORDERPAID", "订单已支付")
                order.update(trade_state="CLOSED", trade_state_desc="订单已关闭")  # closing twice: 204 again
                self.closed.append(m.group(1))
                return self._signed(204, None)
            if path == "/v3/refund/domestic/refunds" and method == "POST":
                return self._refund(body)
            m = re.fullmatch(r"/v3/refund/domestic/refunds/([^/]+)", path)
            if m and method == "GET":
                refund = self.refunds.get(m.group(1))
                if refund is None:
                    return self._error(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
                return self._signed(200, refund)
        return self._error(404, "NOT_FOUND", "no such API in the fake")

    def _certificates(self) -> Response:
        cert = x509.load_pem_x509_certificate(self.keys.cert_pem.encode())
        return self._signed(200, {"data": [{
            "serial_no": self.keys.cert_serial,
            "effective_time": cert.not_valid_before_utc.astimezone(CST).isoformat(),
            "expire_time": cert.not_valid_after_utc.astimezone(CST).isoformat(),
            "encrypt_certificate": aes_gcm_encrypt(self.apiv3_key, self.keys.cert_pem, "certificate"),
        }]}, mode="certificate")

    def _jsapi(self, body: dict) -> Response:
        for name in ("appid", "mchid", "description", "out_trade_no", "notify_url", "amount", "payer"):
            if not body.get(name):
                return self._error(400, "PARAM_ERROR", f"缺少参数 {name}")
        if body["appid"] != self.appid or body["mchid"] != self.mchid:
            return self._error(400, "PARAM_ERROR", "appid和mch_id不匹配")
        if not str(body["notify_url"]).startswith("https://"):
            return self._error(400, "PARAM_ERROR", "notify_url 必须为 https")
        total = body["amount"].get("total")
        if not isinstance(total, int) or isinstance(total, bool) or total <= 0:
            return self._error(400, "PARAM_ERROR", "amount.total 必须为正整数")
        openid = body["payer"].get("openid")
        if not openid:
            return self._error(400, "PARAM_ERROR", "缺少参数 payer.openid")
        no = body["out_trade_no"]
        existing = self.orders.get(no)
        if existing is not None:
            if existing["trade_state"] in ("SUCCESS", "REFUND"):
                return self._error(400, "ORDERPAID", "该订单已支付")
            if existing["trade_state"] == "CLOSED":
                return self._error(400, "ORDER_CLOSED", "该订单已关闭")
            if existing["_request"] != body:
                return self._error(400, "INVALID_REQUEST", "201 商户订单号重复")
            return self._signed(200, {"prepay_id": existing["prepay_id"]})
        prepay_id = "wx" + dt.datetime.now(CST).strftime("%d%H%M%S") + secrets.token_hex(12)
        self.orders[no] = {
            "appid": self.appid, "mchid": self.mchid, "out_trade_no": no, "trade_state": "NOTPAY",
            "trade_state_desc": "订单未支付", "attach": body.get("attach", ""),
            "amount": {"total": total, "currency": body["amount"].get("currency", "CNY"), "payer_currency": "CNY"},
            "payer": {"openid": openid}, "prepay_id": prepay_id, "notify_url": body["notify_url"],
            "description": body["description"], "time_expire": body.get("time_expire"), "_request": body,
        }
        return self._signed(200, {"prepay_id": prepay_id})

    def _refund(self, body: dict) -> Response:
        for name in ("out_refund_no", "amount"):
            if not body.get(name):
                return self._error(400, "PARAM_ERROR", f"缺少参数 {name}")
        order = None
        if body.get("out_trade_no"):
            order = self.orders.get(body["out_trade_no"])
        elif body.get("transaction_id"):
            order = next((o for o in self.orders.values() if o.get("transaction_id") == body["transaction_id"]), None)
        else:
            return self._error(400, "PARAM_ERROR", "缺少参数 out_trade_no/transaction_id")
        if order is None:
            return self._error(404, "RESOURCE_NOT_EXISTS", "订单不存在")
        if order["trade_state"] not in ("SUCCESS", "REFUND"):
            return self._error(400, "INVALID_REQUEST", "订单未支付，不能退款")
        amount = body["amount"]
        if amount.get("total") != order["amount"]["total"]:
            return self._error(400, "PARAM_ERROR", "订单金额与原订单不一致")
        existing = self.refunds.get(body["out_refund_no"])
        if existing is not None:
            if existing["amount"]["refund"] != amount.get("refund") or existing["out_trade_no"] != order["out_trade_no"]:
                return self._error(400, "INVALID_REQUEST", "退款单号重复且参数不一致")
            return self._signed(200, existing)
        refunded = sum(r["amount"]["refund"] for r in self.refunds.values()
                       if r["out_trade_no"] == order["out_trade_no"] and r["status"] != "CLOSED")
        refund_fen = amount.get("refund")
        if not isinstance(refund_fen, int) or refund_fen <= 0 or refunded + refund_fen > order["amount"]["total"]:
            return self._error(400, "INVALID_REQUEST", "申请退款金额超过订单可退金额")
        refund = {
            "refund_id": "5030" + secrets.token_hex(12), "out_refund_no": body["out_refund_no"],
            "transaction_id": order["transaction_id"], "out_trade_no": order["out_trade_no"],
            "channel": "ORIGINAL", "user_received_account": "支付用户零钱", "create_time": _now_rfc3339(),
            "status": "PROCESSING", "funds_account": "AVAILABLE",
            "amount": {"total": order["amount"]["total"], "refund": refund_fen, "payer_total": order["amount"]["total"],
                       "payer_refund": refund_fen, "settlement_refund": refund_fen,
                       "settlement_total": order["amount"]["total"], "discount_refund": 0, "currency": "CNY",
                       "refund_fee": 0},
            "promotion_detail": [],
        }
        self.refunds[body["out_refund_no"]] = refund
        self.refunds_created[body["out_refund_no"]] += 1
        return self._signed(200, refund)
