from urllib.parse import parse_qs, urlsplit

import pytest

from app.integrations.wechat import WeChatAuthError, WeChatOAuthClient, authorize_url


def test_authorize_url_has_the_wechat_shape():
    url = authorize_url("wxAPP", "https://shop.test/auth/wechat/callback?next=/m/1", "snsapi_userinfo", "s t&1")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "open.weixin.qq.com", "/connect/oauth2/authorize")
    assert parts.fragment == "wechat_redirect"
    qs = parse_qs(parts.query)
    assert qs == {"appid": ["wxAPP"], "redirect_uri": ["https://shop.test/auth/wechat/callback?next=/m/1"],
                  "response_type": ["code"], "scope": ["snsapi_userinfo"], "state": ["s t&1"]}
    assert "snsapi_base" in authorize_url("wxAPP", "https://shop.test/cb", "snsapi_base", "x")


def test_authorize_url_refuses_other_scopes():
    with pytest.raises(ValueError):
        authorize_url("wxAPP", "https://shop.test/cb", "snsapi_login", "x")


def test_exchange_code_happy_path(fake_wechat, wx_oauth):
    fake_wechat.register_code("CODE-1", "o-openid-1", unionid="u-union-1")
    got = wx_oauth.exchange_code("CODE-1")
    assert got["openid"] == "o-openid-1"
    assert got["unionid"] == "u-union-1"
    assert got["scope"] == "snsapi_base"
    assert got["access_token"] in fake_wechat.sns_tokens
    assert got["is_snapshotuser"] is False
    assert fake_wechat.calls["/sns/oauth2/access_token"] == 1  # really went through the fake


def test_exchange_code_without_unionid(fake_wechat, wx_oauth):
    fake_wechat.register_code("CODE-2", "o-openid-2")
    assert wx_oauth.exchange_code("CODE-2")["unionid"] is None


def test_code_works_once(fake_wechat, wx_oauth):
    fake_wechat.register_code("CODE-3", "o-openid-3")
    wx_oauth.exchange_code("CODE-3")
    with pytest.raises(WeChatAuthError) as exc:
        wx_oauth.exchange_code("CODE-3")
    assert exc.value.code == 40163
    assert exc.value.is_invalid_code and not exc.value.is_config_error


def test_unknown_code(wx_oauth):
    with pytest.raises(WeChatAuthError) as exc:
        wx_oauth.exchange_code("NOPE")
    assert exc.value.code == 40029
    assert exc.value.is_invalid_code


def test_wrong_secret_is_a_config_error(fake_wechat):
    fake_wechat.register_code("CODE-4", "o-openid-4")
    client = WeChatOAuthClient(fake_wechat.appid, "wrong-secret", api_base=fake_wechat.url)
    with pytest.raises(WeChatAuthError) as exc:
        client.exchange_code("CODE-4")
    assert exc.value.code == 40125 and exc.value.is_config_error
    assert fake_wechat.codes["CODE-4"]["used"] is False


def test_fetch_userinfo(fake_wechat, wx_oauth):
    fake_wechat.register_code("CODE-5", "o-openid-5", scope="snsapi_userinfo")
    fake_wechat.set_user("o-openid-5", nickname="小明", headimgurl="https://thirdwx.qlogo.cn/x/132",
                         unionid="u-union-5")
    grant = wx_oauth.exchange_code("CODE-5")
    assert grant["scope"] == "snsapi_userinfo"
    info = wx_oauth.fetch_userinfo(grant["access_token"], grant["openid"])
    assert info["openid"] == "o-openid-5"
    assert info["nickname"] == "小明"
    assert info["headimgurl"] == "https://thirdwx.qlogo.cn/x/132"
    assert info["unionid"] == "u-union-5"


def test_userinfo_needs_the_userinfo_scope(fake_wechat, wx_oauth):
    fake_wechat.register_code("CODE-6", "o-openid-6", scope="snsapi_base")
    grant = wx_oauth.exchange_code("CODE-6")
    with pytest.raises(WeChatAuthError) as exc:
        wx_oauth.fetch_userinfo(grant["access_token"], grant["openid"])
    assert exc.value.code == 48001


def test_userinfo_with_a_foreign_openid(fake_wechat, wx_oauth):
    fake_wechat.register_code("CODE-7", "o-openid-7", scope="snsapi_userinfo")
    grant = wx_oauth.exchange_code("CODE-7")
    with pytest.raises(WeChatAuthError) as exc:
        wx_oauth.fetch_userinfo(grant["access_token"], "o-someone-else")
    assert exc.value.code == 40003


def test_network_failure_is_a_typed_error():
    client = WeChatOAuthClient("wxAPP", "secret", api_base="http://127.0.0.1:9", timeout=0.5)
    with pytest.raises(WeChatAuthError) as exc:
        client.exchange_code("CODE")
    assert exc.value.code is None
