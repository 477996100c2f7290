"""What a request may send, checked before its body is read or parsed.

Size: each kind of request has its own ceiling (`MAX_JSON_BYTES` for JSON and other bodies,
`MAX_FORM_BYTES` for forms, `MAX_UPLOAD_BYTES` for views marked `@accepts_uploads`). A declared length
over it is refused with 413 `too_large` before a byte is read; a body without a length is cut off at it.
Depth: JSON nested deeper than `MAX_JSON_DEPTH` is `bad_request` before the parser sees it (the parser
would recurse once per level). Text: a NUL character in the path, the query or a form field is
`bad_request` (PostgreSQL cannot store one, and no honest client sends one)."""
from __future__ import annotations

import io
import re
from typing import Any, Callable

from flask import Flask, current_app, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import RequestEntityTooLarge

from app.core.errors import BadRequest

MAX_JSON_DEPTH = 32
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_BRACKET = re.compile(rb"[\[\]{}]")


def accepts_uploads(view: Callable) -> Callable:
    """Mark a view that takes files (multipart): its requests may be up to MAX_UPLOAD_BYTES."""
    view.accepts_uploads = True
    return view


def json_too_deep(raw: bytes | str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether brackets outside strings nest deeper than `limit`; a linear scan, no recursion."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub(b"", raw)):
        if match.group() in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def too_deep() -> BadRequest:
    return BadRequest(field="body", zh=f"请求体的 JSON 嵌套过深（最多 {MAX_JSON_DEPTH} 层）。",
                      en=f"The JSON body is nested too deep (at most {MAX_JSON_DEPTH} levels).")


class LimitedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing a document nested too deep before parsing it."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        if json_too_deep(s):
            raise too_deep()
        try:
            return super().loads(s, **kwargs)
        except RecursionError:  # pragma: no cover - the scan above refuses these first
            raise too_deep() from None


def body_limit() -> int:
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "accepts_uploads", False):
        return current_app.config["MAX_UPLOAD_BYTES"]
    if request.mimetype in FORM_TYPES:
        return current_app.config["MAX_FORM_BYTES"]
    return current_app.config["MAX_JSON_BYTES"]


def _has_nul(values) -> bool:
    return any("\x00" in v for v in values)


def _buffer_unsized_body(limit: int) -> None:
    """A body without a Content-Length (chunked; the server says where it ends) is read up to one byte past
    the limit and handed on as a sized body: werkzeug alone would stop quietly at the limit and parse a
    truncated body."""
    env = request.environ
    chunked = "chunked" in env.get("HTTP_TRANSFER_ENCODING", "").lower()
    if request.content_length is not None or not chunked or not env.get("wsgi.input_terminated"):
        return
    data = env["wsgi.input"].read(limit + 1)
    if len(data) > limit:
        raise RequestEntityTooLarge()
    env["wsgi.input"] = io.BytesIO(data)
    env["CONTENT_LENGTH"] = str(len(data))
    env.pop("HTTP_TRANSFER_ENCODING", None)


def check_request() -> None:
    limit = body_limit()
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge()
    _buffer_unsized_body(limit)
    if "\x00" in request.path or _has_nul(request.args.keys()) or _has_nul(request.args.values()):
        raise BadRequest(field="url", zh="网址含有不允许的字符。", en="The URL contains a character that is not allowed.")
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype in FORM_TYPES:
        if _has_nul(request.form.keys()) or _has_nul(request.form.values()):
            raise BadRequest(field="form", zh="表单含有不允许的字符。", en="The form contains a character that is not allowed.")


def init_app(app: Flask) -> None:
    provider = LimitedJSONProvider(app)
    provider.ensure_ascii = app.json.ensure_ascii
    app.json = provider
    app.before_request(check_request)
