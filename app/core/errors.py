"""Typed domain errors. Each has a stable machine code, an HTTP status and a sentence in Chinese and English.

Views never build error bodies: they raise, and `app.web.errors` renders the envelope
`{"error": {"code", "message", ...details}}` for API requests or a friendly page for browsers.
"""
from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "error"
    status = 400
    zh = "请求无法完成。"
    en = "The request could not be completed."

    def __init__(self, zh: str | None = None, en: str | None = None, **details: Any):
        self.details = details
        if zh is not None:
            self.zh = zh
        if en is not None:
            self.en = en
        super().__init__(self.en)

    def message(self, lang: str = "zh") -> str:
        template = self.en if lang == "en" else self.zh
        try:
            return template.format(**self.details)
        except (KeyError, IndexError):
            return template

    def to_dict(self, lang: str = "zh") -> dict[str, Any]:
        body = {"code": self.code, "message": self.message(lang)}
        body.update({k: v for k, v in self.details.items() if not k.startswith("_")})
        return body


class BadRequest(DomainError):
    code, status = "bad_request", 400
    zh = "请求有误：{field}。"
    en = "Bad request: {field}."


class Unauthorized(DomainError):
    code, status = "unauthorized", 401
    zh = "请先登录或提供有效的密钥。"
    en = "Sign in or provide a valid key."


class Forbidden(DomainError):
    code, status = "forbidden", 403
    zh = "没有权限执行此操作。"
    en = "You are not allowed to do this."


class NotFound(DomainError):
    code, status = "not_found", 404
    zh = "未找到。"
    en = "Not found."


class Conflict(DomainError):
    code, status = "conflict", 409
    zh = "状态已变化，请刷新后重试。"
    en = "The state changed; refresh and try again."


class TooManyTries(DomainError):
    code, status = "too_many_tries", 429
    zh = "尝试次数过多，请稍后再试。"
    en = "Too many tries; wait a moment and try again."


class ServiceUnavailable(DomainError):
    """A part we depend on (the database) does not answer right now. The request did nothing that stays: the
    client may send it again after `retry_after` seconds (a redeem with the same idempotency key)."""
    code, status = "service_unavailable", 503
    zh = "服务暂时不可用，请稍后重试。"
    en = "The service is briefly unavailable; please try again in a moment."
    retry_after = 3  # seconds, sent as Retry-After


class ConfigError(Exception):
    """Bad configuration: its message is one sentence for the operator."""
