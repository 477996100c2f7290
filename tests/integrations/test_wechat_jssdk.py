import hashlib
import time

import pytest

from app.integrations.wechat import JSSDK, WeChatAPIError
from wechatpy.session.memorystorage import MemoryStorage


def _expected(ticket, nonce, ts, url):
    return hashlib.sha1(f"jsapi_ticket={ticket}&noncestr={nonce}&timestamp={ts}&url={url}".encode()).hexdigest()


def test_config_signature_matches_the_wechat_algorithm(fake_wechat, wx_jssdk):
    page = "https://shop.test/m/12/vouchers?a=1&b=%E4%B8%AD"
    cfg = wx_jssdk.config(page + "#/detail?x=1", timestamp=1700000000, nonce_str="Wm3WZYTPz0wzccnW")
    assert cfg == {"appId": fake_wechat.appid, "timestamp": 1700000000, "nonceStr": "Wm3WZYTPz0wzccnW",
                   "signature": _expected(fake_wechat.jsapi_ticket, "Wm3WZYTPz0wzccnW", 1700000000, page)}
    # the fragment must not be signed
    assert cfg["signature"] != _expected(fake_wechat.jsapi_ticket, "Wm3WZYTPz0wzccnW", 1700000000,
                                         page + "#/detail?x=1")


def test_config_defaults(fake_wechat, wx_jssdk):
    before = int(time.time())
    cfg = wx_jssdk.config("https://shop.test/")
    assert before <= cfg["timestamp"] <= int(time.time())
    assert len(cfg["nonceStr"]) == 16
    assert cfg["signature"] == _expected(fake_wechat.jsapi_ticket, cfg["nonceStr"], cfg["timestamp"],
                                         "https://shop.test/")


def test_relative_url_is_refused(wx_jssdk):
    with pytest.raises(ValueError):
        wx_jssdk.config("/m/12")


def test_workers_sharing_a_storage_fetch_token_and_ticket_once(fake_wechat, wx_token_storage):
    a = JSSDK(fake_wechat.appid, fake_wechat.secret, storage=wx_token_storage, api_base=fake_wechat.url)
    b = JSSDK(fake_wechat.appid, fake_wechat.secret, storage=wx_token_storage, api_base=fake_wechat.url)
    a.config("https://shop.test/a")
    b.config("https://shop.test/b")
    assert b.client.access_token == a.client.access_token
    assert fake_wechat.calls["/cgi-bin/token"] == 1
    assert fake_wechat.calls["/cgi-bin/ticket/getticket"] == 1
    # control: separate storages do not share
    JSSDK(fake_wechat.appid, fake_wechat.secret, storage=MemoryStorage(), api_base=fake_wechat.url) \
        .config("https://shop.test/c")
    assert fake_wechat.calls["/cgi-bin/token"] == 2


def test_ticket_is_refreshed_before_it_expires(fake_wechat, wx_jssdk, wx_token_storage):
    wx_jssdk.get_ticket()
    wx_token_storage.set(f"{fake_wechat.appid}_jsapi_ticket_expires_at", int(time.time()) + 60)
    wx_jssdk.get_ticket()
    assert fake_wechat.calls["/cgi-bin/ticket/getticket"] == 2


def test_invalidated_token_is_refetched(fake_wechat, wx_jssdk, wx_token_storage):
    wx_jssdk.get_ticket()
    fake_wechat.expire_access_tokens()
    wx_token_storage.delete(f"{fake_wechat.appid}_jsapi_ticket")
    assert wx_jssdk.get_ticket() == fake_wechat.jsapi_ticket  # 40001, then wechatpy refetches the token
    assert fake_wechat.calls["/cgi-bin/token"] == 2


def test_wrong_secret(fake_wechat):
    sdk = JSSDK(fake_wechat.appid, "bad", storage=MemoryStorage(), api_base=fake_wechat.url)
    with pytest.raises(WeChatAPIError) as exc:
        sdk.config("https://shop.test/")
    assert exc.value.code == 40125
