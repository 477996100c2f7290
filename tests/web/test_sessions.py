"""The session cookie (app.web.sessions): re-signed when it changes or once it is REFRESH_AFTER old, not on
every page; still sliding, so a session in use lives on and an idle one ends after its lifetime."""
from __future__ import annotations

import time

import pytest

from app.members.service import demo_member
from app.extensions import db
from app.web import sessions
from tests.web.test_catalog import latte, text  # noqa: F401


def cookie_signed_at(app, data: dict, seconds_ago: int, monkeypatch) -> str:
    """A session cookie holding `data`, signed `seconds_ago` (the serializer reads the clock when it signs)."""
    serializer = app.session_interface.get_signing_serializer(app)
    signed = time.time() - seconds_ago
    with monkeypatch.context() as m:
        m.setattr(time, "time", lambda: signed)
        return serializer.dumps(data)


def session_set_cookie(response) -> str | None:
    found = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
    return found[0] if found else None


@pytest.fixture
def member(world):
    m = demo_member(world.merchant.id, "小王")
    db.session.commit()
    return m


def page(client, latte, world):
    return client.get(f"/m/test-coffee/p/{latte.id}?store={world.store.id}")


def test_a_fresh_session_is_not_signed_again_on_every_page(app, client, world, latte, member, monkeypatch):
    client.set_cookie("session", cookie_signed_at(app, {"members": {str(world.merchant.id): member.id},
                                                        "_permanent": True}, 5, monkeypatch))
    r = page(client, latte, world)
    assert "登录享会员价" not in text(r), "signed in"
    assert session_set_cookie(r) is None


def test_a_session_in_use_is_refreshed_once_it_is_older_than_refresh_after(app, client, world, latte, member,
                                                                         monkeypatch):
    old = cookie_signed_at(app, {"members": {str(world.merchant.id): member.id}, "_permanent": True},
                           sessions.REFRESH_AFTER + 60, monkeypatch)
    client.set_cookie("session", old)
    r = page(client, latte, world)
    fresh = session_set_cookie(r)
    assert fresh is not None and old not in fresh
    # The new cookie is the same session, signed now: the next page needs no refresh.
    r = page(client, latte, world)
    assert "登录享会员价" not in text(r) and session_set_cookie(r) is None


def test_an_idle_session_ends_after_its_lifetime(app, client, world, latte, member, monkeypatch):
    lifetime = int(app.permanent_session_lifetime.total_seconds())
    client.set_cookie("session", cookie_signed_at(app, {"members": {str(world.merchant.id): member.id},
                                                        "_permanent": True}, lifetime + 60, monkeypatch))
    assert "登录享会员价" in text(page(client, latte, world)), "signed out"


def test_a_changed_session_is_written_at_once(app, client, world, member):
    r = client.post("/m/test-coffee/signin/demo", data={"nickname": "小李", "next": "/m/test-coffee/"})
    assert r.status_code in (302, 303)
    assert session_set_cookie(r) is not None
