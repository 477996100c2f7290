"""One error module: JSON envelope for API and XHR requests, a friendly page for browsers."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from app.core import logging as applog
from app.core.errors import DomainError, ServiceUnavailable
from app.core.i18n import current_lang, gettext
from app.core.database import is_outage, rollback

HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 413: "too_large", 429: "too_many_tries"}


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
        generic = DomainError(zh=err.description or "请求有误。", en=err.description or "Request error.")
        generic.code, generic.status = code, err.code or 500
        if code == "not_found":
            generic.zh, generic.en = "页面或资源不存在。", "Not found."
        return render_error(generic)

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
