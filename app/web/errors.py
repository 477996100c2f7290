"""One error module: JSON envelope for API and XHR requests, a friendly page for browsers."""
from __future__ import annotations

from flask import Flask, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException

from app.core import logging as applog
from app.core.errors import DomainError, ServiceUnavailable
from app.core.i18n import current_lang, gettext
from app.core.database import is_outage, rollback

HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 413: "too_large", 429: "too_many_tries"}
# Werkzeug's own descriptions are English only: every HTTP error speaks the caller's language.
HTTP_MESSAGES = {
    400: ("请求有误。", "Bad request."),
    401: ("请先登录或提供有效的密钥。", "Sign in or provide a valid key."),
    403: ("没有权限执行此操作。", "You are not allowed to do this."),
    404: ("页面或资源不存在。", "Not found."),
    405: ("此地址不支持该请求方法。", "This HTTP method is not allowed here."),
    413: ("请求内容过大。", "The request body is too large."),
    415: ("不支持此内容类型。", "This content type is not supported."),
    429: ("请求过于频繁，请稍后再试。", "Too many requests; wait a moment and try again."),
}
OTHER_HTTP_ERROR = ("请求无法完成。", "The request could not be completed.")


def wants_json() -> bool:
    if request.path.startswith("/api/") or request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def render_error(err: DomainError):
    body = err.to_dict(current_lang())
    if wants_json():
        response = jsonify({"error": body})
    else:
        # A page that is briefly unavailable (the database, the payment provider) offers to load it again.
        retry = request.url if err.status == 503 and request.method == "GET" else None
        response = render_template("errors.html", error=body, status=err.status, retry_url=retry,
                                   retry_label=gettext("重试"))
    retry_after = getattr(err, "retry_after", None)
    if retry_after:
        return response, err.status, {"Retry-After": str(retry_after)}
    return response, err.status


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(err: DomainError):
        rollback()
        return render_error(err)

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        rollback()
        code = HTTP_CODES.get(err.code or 500, "error")
        zh, en = HTTP_MESSAGES.get(err.code or 500, OTHER_HTTP_ERROR)
        generic = DomainError(zh=zh, en=en)
        generic.code, generic.status = code, err.code or 500
        response = make_response(render_error(generic))
        headers = dict(err.get_headers())
        for name in ("Allow", "Retry-After"):  # 405 says which methods; 429/503 when to come back
            if name in headers:
                response.headers[name] = headers[name]
        return response

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        rollback()
        if is_outage(err):  # the database is down or restarting: a clean 503 the client may retry
            applog.log.warning("database unavailable: %s", type(err).__name__,
                               extra={"fields": {"path": request.path, "error": str(err).splitlines()[0][:200]}})
            return render_error(ServiceUnavailable())
        applog.log.exception("unhandled error", extra={"fields": {"path": request.path}})
        generic = DomainError(zh="服务器开小差了，请稍后再试。", en="Server error; please try again.")
        generic.code, generic.status = "server_error", 500
        return render_error(generic)
