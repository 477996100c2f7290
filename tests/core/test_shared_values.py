"""Values shared by every worker in the database (app.core.shared_values): WeChat's access token and jsapi
ticket. Each DatabaseStorage instance stands for one worker process (its own local copy); the fake WeChat
ends an older token when a newer one is fetched, as WeChat does.

These tests use the app context without the `db` fixture's outer transaction: the storage commits on
connections of its own, which a test transaction holding SQLite's write lock would block (see the module)."""
from __future__ import annotations

import pytest
from wechatpy.session.memorystorage import MemoryStorage

from app.core import shared_values
from app.core.shared_values import DatabaseStorage
from app.extensions import db
from app.integrations.wechat import JSSDK
from tests.payments.conftest import fake  # noqa: F401  (the fake WeChat, one per module)


@pytest.fixture
def ctx(app):
    with app.app_context():
        shared_values.reset()
        yield
        shared_values.reset()


@pytest.fixture
def wechat(fake):  # noqa: F811
    fake.reset()
    fake.token_grace = 0  # the worst case: an older token ends the moment a newer one is fetched
    yield fake
    fake.reset()


class Clock:
    def __init__(self, t: float = 1_800_000_000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_a_value_set_by_one_worker_is_read_by_another_until_it_expires(ctx):
    clock = Clock()
    one, two = DatabaseStorage(db, clock), DatabaseStorage(db, clock)
    one.set("wx_access_token", "T1", 7200)
    assert two.get("wx_access_token") == "T1"
    assert two.get("missing", "none") == "none"
    clock.t += 7201
    assert two.get("wx_access_token") is None and one.get("wx_access_token") is None


def test_a_worker_keeps_what_it_read_for_a_minute_then_reads_the_new_value(ctx):
    clock = Clock()
    one, two = DatabaseStorage(db, clock), DatabaseStorage(db, clock)
    one.set("k", {"ticket": "A"}, 7200)
    assert two.get("k") == {"ticket": "A"}
    one.set("k", {"ticket": "B"}, 7200)
    assert two.get("k") == {"ticket": "A"}, "kept locally: no query per page"
    clock.t += shared_values.LOCAL_SECONDS
    assert two.get("k") == {"ticket": "B"}
    one.delete("k")
    clock.t += shared_values.LOCAL_SECONDS
    assert two.get("k") is None


def test_workers_sharing_the_database_fetch_one_token_and_keep_each_other_working(ctx, wechat):
    workers = [JSSDK(wechat.appid, wechat.secret, storage=DatabaseStorage(db), api_base=wechat.url)
               for _ in range(4)]
    for round_ in range(3):
        for i, w in enumerate(workers):
            assert w.config(f"https://shop.test/{round_}/{i}")["appId"] == wechat.appid
    assert wechat.calls["/cgi-bin/token"] == 1
    assert wechat.calls["/cgi-bin/ticket/getticket"] == 1


def test_workers_with_a_token_each_end_each_others_tokens(ctx, wechat):
    """The control: what the app did before (wechatpy's MemoryStorage per worker)."""
    workers = [JSSDK(wechat.appid, wechat.secret, storage=MemoryStorage(), api_base=wechat.url) for _ in range(2)]
    workers[0].client.fetch_access_token()
    workers[1].client.fetch_access_token()  # ends worker 0's token
    assert workers[0].client.jsapi.get_ticket("jsapi")["ticket"]  # wechatpy fetches again on 40001 ...
    assert wechat.calls["/cgi-bin/token"] == 3  # ... ending worker 1's in turn


def test_the_share_page_and_template_messages_use_the_shared_token(app, ctx, wechat):
    """The app's own doors: the share config (app.web.shop.share) and template messages read one token."""
    from app.integrations.wechat import send_template
    from app.web.shop.share import share_config

    saved = {k: app.config.get(k) for k in ("WECHAT_APPID", "WECHAT_SECRET", "WECHAT_API_BASE")}
    app.config.update(WECHAT_APPID=wechat.appid, WECHAT_SECRET=wechat.secret, WECHAT_API_BASE=wechat.url)
    try:
        with app.test_request_context("/"):
            assert share_config("https://shop.test/m/x/t/1")["appId"] == wechat.appid
        # Another worker: nothing kept locally, the token read from the database.
        shared_values.storage().forget_local()
        send_template(wechat.appid, wechat.secret, openid="o-1", template_id="TPL", data={"first": "好"},
                      storage=shared_values.storage(), api_base=wechat.url)
    finally:
        app.config.update(saved)
        for key in [k for k in app.extensions if isinstance(k, tuple) and k[0] == "share_jssdk"]:
            del app.extensions[key]  # the worker's JSSDK made for this fake
    assert wechat.calls["/cgi-bin/token"] == 1
    assert [m["touser"] for m in wechat.template_messages] == ["o-1"]


def test_with_the_database_away_a_worker_keeps_its_token_in_the_process(wechat, caplog):
    """A cache never fails its caller: nothing listens on port 1, so every read and write fails at once."""
    import sqlalchemy as sa
    from types import SimpleNamespace

    away = SimpleNamespace(engine=sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:1/none"), session=None)
    worker = JSSDK(wechat.appid, wechat.secret, storage=DatabaseStorage(away), api_base=wechat.url)
    for i in range(3):
        assert worker.config(f"https://shop.test/{i}")["appId"] == wechat.appid
    assert wechat.calls["/cgi-bin/token"] == 1 and wechat.calls["/cgi-bin/ticket/getticket"] == 1
    assert "shared value kept in this process only" in caplog.text
