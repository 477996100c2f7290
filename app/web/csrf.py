"""CSRF tokens for every cookie-authenticated form and fetch outside the console: the shop, the counter
and the sandbox payer (the console keeps its own, bound to the staff session: app.web.console.guard).

Double-submit cookie: the first page that renders a form (`csrf_token()` in its template) sets a random
token in the `csrf` cookie (HttpOnly, SameSite=Lax, Secure in production) and puts the same value in the
form's hidden `csrf_token` field (or, for a page whose script posts, in `<meta name="csrf-token">`, sent
back as the `X-CSRFToken` header). An unsafe request must carry the cookie and the same value; another
site can make a browser send the cookie, but can neither read it nor guess it. No server-side state and
no session write, so an anonymous product page costs one cookie, once per browser.

The JSON API (bearer keys), webhooks (signed) and the console (its own check) are not covered here.
"""
from __future__ import annotations

import hmac
import secrets

from flask import Flask, current_app, g, request
from flask.wrappers import Response

from app.core.errors import Forbidden

COOKIE = "csrf"
FIELD = "csrf_token"
HEADER = "X-CSRFToken"
MAX_AGE = 30 * 86400
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
EXEMPT = ("/api/", "/webhooks/", "/console/")
_G_NEW = "_csrf_new"


class CsrfRefused(Forbidden):
    zh = "页面已过期，请刷新页面后重试。"
    en = "This page has expired; reload it and try again."


def _valid(token: str | None) -> bool:
    return bool(token) and 20 <= len(token) <= 64 and token.isalnum()


def csrf_token() -> str:
    """This browser's token (made, and set as a cookie on the response, when it has none)."""
    token = request.cookies.get(COOKIE)
    if _valid(token):
        return token
    token = g.get(_G_NEW)
    if token is None:
        token = g._csrf_new = secrets.token_hex(16)
    return token


def issued_token() -> str | None:
    """The token this response carries, if a page has asked for one (or the browser has one); never makes one."""
    token = request.cookies.get(COOKIE)
    return token if _valid(token) else g.get(_G_NEW)


def exempt(view):
    """For a view no cookie authenticates (the benchmarks' bare baselines, like the JSON API)."""
    view.csrf_exempt = True
    return view


def check() -> None:
    if request.method not in UNSAFE or request.path.startswith(EXEMPT):
        return
    if getattr(current_app.view_functions.get(request.endpoint), "csrf_exempt", False):
        return
    expected = request.cookies.get(COOKIE) or ""
    sent = request.headers.get(HEADER) or request.form.get(FIELD) or ""
    if not _valid(expected) or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRefused()


def _set_cookie(response: Response) -> Response:
    token = g.get(_G_NEW)
    if token is not None:
        response.set_cookie(COOKIE, token, max_age=MAX_AGE, httponly=True, samesite="Lax", path="/",
                            secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
    return response


def _forget_new_token() -> None:
    # A token made for the previous request must not leak into this one (tests keep one app context).
    g.pop(_G_NEW, None)


def init_app(app: Flask) -> None:
    app.before_request(_forget_new_token)
    app.before_request(check)
    app.after_request(_set_cookie)
    app.jinja_env.globals["csrf_token"] = csrf_token
