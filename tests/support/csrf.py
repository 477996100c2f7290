"""A test client that carries the shop's CSRF pair like a browser that has loaded a page: the `csrf` cookie
and the same value as the X-CSRFToken header on every request (app.web.csrf). Installed for every app in
the tests by tests/conftest.py; `plain_client(app)` is a client without it, for the tests of the check."""
from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

TOKEN = "testcsrf0123456789abcdef"


class CsrfClient(FlaskClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_cookie("csrf", TOKEN)
        self.environ_base["HTTP_X_CSRFTOKEN"] = TOKEN


def plain_client(app: Flask) -> FlaskClient:
    return FlaskClient(app, app.response_class, use_cookies=True)
