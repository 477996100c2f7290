"""Sending a verification text. No database here.

* `WebhookSms` (when `SMS_WEBHOOK_URL` is set): POSTs JSON to the merchant's SMS gateway (an adapter in
  front of Aliyun, Tencent Cloud or any other provider), signed with HMAC-SHA256 over
  `<timestamp>.<body>` in `X-O2O-Signature: t=<unix seconds>,v1=<hex>`, so the gateway can refuse forged
  or replayed calls. Any answer but 2xx, or no answer within 5 s, is a failure.
* `LogSms` (no URL): writes the text to the log. Outside production the shop also shows the code on the
  page, labelled as a demo, so the flow can be clicked through without a phone.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Protocol

import requests

from app.core import logging as applog


class SmsFailed(Exception):
    pass


class SmsSender(Protocol):
    shows_code: bool  # the page may show the code (demo only)

    def send_code(self, phone: str, code: str, *, merchant: str, minutes: int) -> None: ...


def text_of(code: str, merchant: str, minutes: int) -> str:
    return f"【{merchant}】验证码 {code}，{minutes} 分钟内有效。如非本人操作，请忽略。"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


class WebhookSms:
    shows_code = False

    def __init__(self, url: str, secret: str, timeout: float = 5.0) -> None:
        self.url, self.secret, self.timeout = url, secret, timeout

    def send_code(self, phone: str, code: str, *, merchant: str, minutes: int) -> None:
        body = json.dumps({"purpose": "bind_phone", "phone": phone, "code": code, "minutes": minutes,
                           "text": text_of(code, merchant, minutes)}, ensure_ascii=False).encode()
        ts = int(time.time())
        try:
            r = requests.post(self.url, data=body, timeout=self.timeout, headers={
                "Content-Type": "application/json; charset=utf-8",
                "X-O2O-Signature": f"t={ts},v1={signature(self.secret, ts, body)}"})
        except requests.RequestException as exc:
            raise SmsFailed(f"SMS gateway unreachable: {exc.__class__.__name__}") from exc
        if not 200 <= r.status_code < 300:
            raise SmsFailed(f"SMS gateway answered {r.status_code}")


class LogSms:
    def __init__(self, shows_code: bool) -> None:
        self.shows_code = shows_code

    def send_code(self, phone: str, code: str, *, merchant: str, minutes: int) -> None:
        applog.event("verification text (not sent: no SMS_WEBHOOK_URL)", phone=phone, code=code,
                     text=text_of(code, merchant, minutes))


def sender_for(config) -> SmsSender | None:
    """The configured sender; None in production without a gateway (phone binding is then unavailable)."""
    if config.get("SMS_WEBHOOK_URL"):
        return WebhookSms(config["SMS_WEBHOOK_URL"], config.get("SMS_WEBHOOK_SECRET", ""))
    if config.get("APP_ENV") == "production":
        return None
    return LogSms(shows_code=True)
