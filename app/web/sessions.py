"""The session cookie (signed-in members and staff): Flask's signed cookie, re-signed when it changes or once
it is REFRESH_AFTER old, not on every request.

Flask re-signs a permanent session on every response so that its expiry slides (SESSION_REFRESH_EACH_REQUEST):
an HMAC, a JSON dump and a Set-Cookie header on every page a signed-in shopper opens, about a tenth of a
product page's CPU. Here the cookie's own signed timestamp says when it was last re-signed: a session is
still refreshed while it is in use, so it ends PERMANENT_SESSION_LIFETIME after the last request, give or
take REFRESH_AFTER, and a changed session is written at once as before. The serializer is built once per
key set instead of twice per request.
"""
from __future__ import annotations

import time

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature, URLSafeTimedSerializer

REFRESH_AFTER = 600  # seconds


class SlidingSession(SecureCookieSession):
    signed_at: float | None = None  # when the cookie it came from was signed (None: a new session)


class SlidingCookieSessionInterface(SecureCookieSessionInterface):
    session_class = SlidingSession

    def __init__(self) -> None:
        self._serializers: dict[tuple, URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        found = self._serializers.get(keys, False)
        if found is False:
            if len(self._serializers) > 8:  # keys rotated (or tests making apps): keep only the current set
                self._serializers.clear()
            found = self._serializers[keys] = super().get_signing_serializer(app)
        return found

    def open_session(self, app: Flask, request: Request) -> SlidingSession | None:
        s = self.get_signing_serializer(app)
        if s is None:
            return None
        val = request.cookies.get(self.get_cookie_name(app))
        if not val:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            data, signed_at = s.loads(val, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        session = self.session_class(data)
        session.signed_at = signed_at.timestamp()
        return session

    def should_set_cookie(self, app: Flask, session: SlidingSession) -> bool:
        if session.modified:
            return True
        if not (session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]):
            return False
        return session.signed_at is None or time.time() - session.signed_at >= REFRESH_AFTER


def init_app(app: Flask) -> None:
    app.session_interface = SlidingCookieSessionInterface()
