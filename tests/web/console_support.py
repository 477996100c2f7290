"""Helpers for the console tests: clients signed in as a role, with the session's CSRF token."""
from __future__ import annotations

CSRF = "test-csrf-token"


def console_client(app, staff=None, *, ip: str = "127.0.0.1"):
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = ip
    with c.session_transaction() as s:
        s["csrf"] = CSRF
        if staff is not None:
            s["staff_id"] = staff.id
            s["staff_pw"] = staff.password_hash[-12:]
    return c


def post(client, url: str, **data):
    return client.post(url, data={"csrf_token": CSRF, **data})
