"""Consumer sign-in: demo mode, WeChat OAuth against the local fake WeChat, and production without WeChat."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from app.extensions import db as _db
from app.members.models import Member
from app.members.service import demo_member
from tests.fakes.wechat_server import FakeWeChat, default_keys

SLUG = "test-coffee"


# ---------------------------------------------------------------------------------------------- fixtures
@pytest.fixture
def browser(app, db):
    def new():
        return app.test_client()

    return new


@pytest.fixture
def client(browser):
    return browser()


@pytest.fixture
def config(app):
    """Set app.config keys for one test; the session-scoped app gets its old values back afterwards."""
    saved: dict = {}

    def set_(**values):
        for key, value in values.items():
            saved.setdefault(key, app.config.get(key))
            app.config[key] = value

    yield set_
    app.config.update(saved)


@pytest.fixture(scope="module")
def _wechat_server():
    fake = FakeWeChat(default_keys()).start()
    yield fake
    fake.stop()


@pytest.fixture
def wechat(_wechat_server, config):
    """WeChat configured and pointed at the running fake (fresh state)."""
    fake = _wechat_server
    fake.reset()
    config(WECHAT_APPID=fake.appid, WECHAT_SECRET=fake.secret, WECHAT_API_BASE=fake.url,
           WECHAT_OAUTH_SCOPE_BASE_ONLY=False, DEMO_SIGNIN=True)
    yield fake
    fake.reset()


@pytest.fixture
def demo(config):
    config(WECHAT_APPID="", WECHAT_SECRET="", DEMO_SIGNIN=True)


def members_where(**kw) -> list[Member]:
    q = sa.select(Member)
    for name, value in kw.items():
        q = q.where(getattr(Member, name) == value)
    return list(_db.session.execute(q.order_by(Member.id)).scalars())


def signed_in_id(client, merchant) -> int | None:
    with client.session_transaction() as s:
        return (s.get("members") or {}).get(str(merchant.id))


def start_wechat(client, **params) -> tuple[dict, str]:
    """GET /signin (WeChat mode); returns the authorize URL's query and the state."""
    r = client.get(f"/m/{SLUG}/signin", query_string=params)
    assert r.status_code == 302, r.get_data(as_text=True)
    loc = urlsplit(r.headers["Location"])
    assert (loc.scheme, loc.netloc, loc.path) == ("https", "open.weixin.qq.com", "/connect/oauth2/authorize")
    assert loc.fragment == "wechat_redirect"
    qs = {k: v[0] for k, v in parse_qs(loc.query).items()}
    return qs, qs["state"]


def callback(client, code: str | None, state: str | None, slug: str = SLUG):
    params = {k: v for k, v in {"code": code, "state": state}.items() if v is not None}
    return client.get(f"/m/{slug}/signin/wechat/callback", query_string=params, headers={"Accept": "text/html"})


def error_code(r) -> str | None:
    html = r.get_data(as_text=True)
    marker = 'data-code="'
    return html.split(marker, 1)[1].split('"', 1)[0] if marker in html else None


# ---------------------------------------------------------------------------------------------- demo
def test_demo_page_is_labelled_and_lists_this_merchants_demo_members(client, world, demo):
    demo_member(world.merchant.id, "小红")
    demo_member(world.other_merchant.id, "别家顾客")
    _db.session.add(Member(merchant_id=world.merchant.id, openid="o-real", nickname="真实会员"))
    _db.session.commit()
    r = client.get(f"/m/{SLUG}/signin")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "演示登录 — 未配置微信，模拟微信授权" in html
    assert "小红" in html
    assert "别家顾客" not in html and "真实会员" not in html
    assert f'action="/m/{SLUG}/signin/demo"' in html


def test_demo_signin_creates_then_reuses_one_member(client, browser, world, demo):
    r = client.post(f"/m/{SLUG}/signin/demo", data={"nickname": "  小明 "})
    assert r.status_code == 302
    made = members_where(merchant_id=world.merchant.id, nickname="小明")
    assert len(made) == 1 and made[0].is_demo and made[0].openid == "demo:小明"
    assert signed_in_id(client, world.merchant) == made[0].id

    second = browser()
    second.post(f"/m/{SLUG}/signin/demo", data={"nickname": "小明"})
    assert len(members_where(merchant_id=world.merchant.id, nickname="小明")) == 1
    assert signed_in_id(second, world.merchant) == made[0].id
    # the demo page now offers that member
    assert "小明" in second.get(f"/m/{SLUG}/signin").get_data(as_text=True)


@pytest.mark.parametrize("target, expected", [
    ("/m/test-coffee/cart", "/m/test-coffee/cart"),
    ("/m/test-coffee/p/3?sku=1", "/m/test-coffee/p/3?sku=1"),
    ("https://evil.example/", "/m/test-coffee/"),
    ("//evil.example", "/m/test-coffee/"),
    ("/\\evil.example", "/m/test-coffee/"),
    ("", "/m/test-coffee/"),
])
def test_demo_signin_honours_only_local_next(client, world, demo, target, expected):
    # the page carries next into the form...
    page = client.get(f"/m/{SLUG}/signin", query_string={"next": target}).get_data(as_text=True)
    assert f'name="next" value="{expected}"' in page.replace("&amp;", "&")
    # ...and the POST checks it again
    r = client.post(f"/m/{SLUG}/signin/demo", data={"nickname": "阿强", "next": target})
    assert r.status_code == 302
    assert urlsplit(r.headers["Location"]).netloc in ("", "localhost")
    assert r.headers["Location"].endswith(expected)


def test_a_demo_nickname_that_is_too_long_is_refused_with_a_message_and_kept(client, world, demo):
    """Issue #9 point 11: a 40-character nickname was cut to 32 without a word."""
    typed = "一个非常非常长的昵称" * 4
    r = client.post(f"/m/{SLUG}/signin/demo", data={"nickname": typed, "next": f"/m/{SLUG}/me"})
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert 'data-testid="nickname-error"' in html and "昵称最多 32 个字，你输入了 40 个，请改短一些。" in html
    assert f'value="{typed}"' in html and f'name="next" value="/m/{SLUG}/me"' in html
    assert members_where(merchant_id=world.merchant.id, nickname=typed[:32]) == []
    assert signed_in_id(client, world.merchant) is None
    page = client.get(f"/m/{SLUG}/signin").get_data(as_text=True)
    assert "最多 32 个字" in page  # said before typing, too


def test_signin_for_unknown_merchant_is_404(client, world, demo):
    assert client.get("/m/no-such-shop/signin").status_code == 404
    assert client.post("/m/no-such-shop/signin/demo", data={"nickname": "x"}).status_code == 404


def test_signout_forgets_only_this_merchant(client, world, demo):
    client.post(f"/m/{SLUG}/signin/demo", data={"nickname": "甲"})
    client.post("/m/other-bakery/signin/demo", data={"nickname": "乙"})
    assert signed_in_id(client, world.merchant) and signed_in_id(client, world.other_merchant)
    r = client.post(f"/m/{SLUG}/signout")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/m/{SLUG}/")
    assert signed_in_id(client, world.merchant) is None
    assert signed_in_id(client, world.other_merchant) is not None


# ---------------------------------------------------------------------------------------------- production
def test_production_without_wechat_is_a_friendly_503(client, world, config):
    config(WECHAT_APPID="", WECHAT_SECRET="", DEMO_SIGNIN=False)
    r = client.get(f"/m/{SLUG}/signin", headers={"Accept": "text/html"})
    assert r.status_code == 503
    assert error_code(r) == "signin_unavailable"
    assert "微信登录" in r.get_data(as_text=True)
    j = client.get(f"/m/{SLUG}/signin", headers={"Accept": "application/json"})
    assert j.status_code == 503 and j.json["error"]["code"] == "signin_unavailable"
    assert set(j.json["error"]) == {"code", "message"}  # no private details leak
    # and the simulated sign-in does not exist there
    assert client.post(f"/m/{SLUG}/signin/demo", data={"nickname": "x"}).status_code == 404
    assert members_where(merchant_id=world.merchant.id) == []


def test_wechat_configured_turns_demo_signin_off(client, world, wechat):
    assert client.post(f"/m/{SLUG}/signin/demo", data={"nickname": "x"}).status_code == 404
    assert members_where(merchant_id=world.merchant.id) == []


# ---------------------------------------------------------------------------------------------- WeChat
def test_signin_redirects_to_wechat_silently(client, world, wechat):
    qs, state = start_wechat(client, next="/m/test-coffee/cart")
    assert qs["appid"] == wechat.appid
    assert qs["scope"] == "snsapi_base"
    assert qs["response_type"] == "code"
    assert qs["redirect_uri"] == "http://shop.test/m/test-coffee/signin/wechat/callback"
    assert len(state) >= 16 and state.isalnum()
    _, state2 = start_wechat(client)
    assert state2 != state
    assert wechat.calls == {}  # building the URL needs no network


def test_callback_signs_in_one_member_and_goes_to_next(client, world, wechat):
    _, state = start_wechat(client, next="/m/test-coffee/orders")
    wechat.register_code("CODE-1", "o-alice")
    r = callback(client, "CODE-1", state)
    assert r.status_code == 302
    assert r.headers["Location"].endswith("/m/test-coffee/orders")
    made = members_where(openid="o-alice")
    assert len(made) == 1
    assert made[0].merchant_id == world.merchant.id and not made[0].is_demo
    assert signed_in_id(client, world.merchant) == made[0].id
    assert wechat.calls["/sns/oauth2/access_token"] == 1
    assert wechat.calls["/sns/userinfo"] == 0  # silent sign-in does not ask for the profile

    # signing in again later (new code, new state) finds the same member
    client.post(f"/m/{SLUG}/signout")
    _, state = start_wechat(client)
    wechat.register_code("CODE-2", "o-alice")
    assert callback(client, "CODE-2", state).status_code == 302
    assert len(members_where(openid="o-alice")) == 1
    assert signed_in_id(client, world.merchant) == made[0].id


def test_already_signed_in_skips_wechat(client, world, wechat):
    _, state = start_wechat(client)
    wechat.register_code("CODE-1", "o-alice")
    callback(client, "CODE-1", state)
    r = client.get(f"/m/{SLUG}/signin", query_string={"next": "/m/test-coffee/me"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/m/test-coffee/me")


def test_a_code_works_once(client, world, wechat):
    wechat.register_code("CODE-1", "o-alice")
    _, state = start_wechat(client, next="/m/test-coffee/me")
    assert callback(client, "CODE-1", state).status_code == 302
    client.post(f"/m/{SLUG}/signout")
    _, state = start_wechat(client, next="/m/test-coffee/me")
    r = callback(client, "CODE-1", state)
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert error_code(r) == "wechat_code_invalid"
    assert "请重新登录" in html and "重新登录</a>" in html
    assert f'href="/m/{SLUG}/signin?next=/m/test-coffee/me"' in html
    assert signed_in_id(client, world.merchant) is None
    assert len(members_where(openid="o-alice")) == 1


def test_unknown_code_is_invalid_and_creates_nobody(client, world, wechat):
    _, state = start_wechat(client)
    r = callback(client, "NEVER-ISSUED", state)
    assert r.status_code == 400 and error_code(r) == "wechat_code_invalid"
    assert members_where(merchant_id=world.merchant.id) == []


def test_wrong_or_missing_state_is_refused_before_the_code_is_spent(client, world, wechat):
    start_wechat(client)
    wechat.register_code("CODE-1", "o-mallory")
    for bad in ("not-the-state", None):
        r = callback(client, "CODE-1", bad)
        assert r.status_code == 400
        assert error_code(r) == "bad_state"
        assert "请重新登录" in r.get_data(as_text=True)
    assert wechat.codes["CODE-1"]["used"] is False
    assert wechat.calls["/sns/oauth2/access_token"] == 0
    assert members_where(openid="o-mallory") == []
    assert signed_in_id(client, world.merchant) is None


def test_state_is_single_use_and_bound_to_browser_and_merchant(client, browser, world, wechat):
    _, state = start_wechat(client)
    wechat.register_code("CODE-1", "o-alice")
    assert callback(client, "CODE-1", state).status_code == 302
    wechat.register_code("CODE-2", "o-alice")
    assert error_code(callback(client, "CODE-2", state)) == "bad_state"  # replayed state

    # another browser cannot finish a sign-in started here (login CSRF)
    client.post(f"/m/{SLUG}/signout")
    _, state = start_wechat(client)
    stranger = browser()
    wechat.register_code("CODE-3", "o-mallory")
    assert error_code(callback(stranger, "CODE-3", state)) == "bad_state"

    # a state started for one merchant does not sign in at another
    _, state = start_wechat(client)
    wechat.register_code("CODE-4", "o-alice")
    r = callback(client, "CODE-4", state, slug="other-bakery")
    assert r.status_code == 400 and error_code(r) == "bad_state"
    assert members_where(merchant_id=world.other_merchant.id) == []
    assert members_where(openid="o-mallory") == []


def test_profile_asks_userinfo_and_stores_nickname_and_avatar(client, world, wechat):
    qs, state = start_wechat(client, profile="1", next="/m/test-coffee/me")
    assert qs["scope"] == "snsapi_userinfo"
    wechat.register_code("CODE-P", "o-bob", scope="snsapi_userinfo")
    wechat.set_user("o-bob", nickname="小波", headimgurl="https://thirdwx.qlogo.cn/mmopen/bob/132")
    r = callback(client, "CODE-P", state)
    assert r.status_code == 302 and r.headers["Location"].endswith("/m/test-coffee/me")
    (bob,) = members_where(openid="o-bob")
    assert bob.nickname == "小波"
    assert bob.avatar_url == "https://thirdwx.qlogo.cn/mmopen/bob/132"
    assert wechat.calls["/sns/userinfo"] == 1


def test_profile_for_a_signed_in_member_updates_the_same_member(client, world, wechat):
    _, state = start_wechat(client)
    wechat.register_code("CODE-B", "o-bob")
    callback(client, "CODE-B", state)
    (bob,) = members_where(openid="o-bob")
    assert bob.nickname == ""
    _, state = start_wechat(client, profile="1")  # not skipped although signed in
    wechat.register_code("CODE-P", "o-bob", scope="snsapi_userinfo")
    wechat.set_user("o-bob", nickname="小波")
    callback(client, "CODE-P", state)
    _db.session.expire_all()
    assert [m.id for m in members_where(openid="o-bob")] == [bob.id]
    assert bob.nickname == "小波"


def test_base_only_setting_never_asks_for_the_profile(client, world, wechat, config):
    config(WECHAT_OAUTH_SCOPE_BASE_ONLY=True)
    qs, _ = start_wechat(client, profile="1")
    assert qs["scope"] == "snsapi_base"


def test_declined_profile_returns_without_a_code(client, world, wechat):
    _, state = start_wechat(client, profile="1", next="/m/test-coffee/me")
    r = callback(client, None, state)
    assert r.status_code == 302 and r.headers["Location"].endswith("/m/test-coffee/me")
    assert signed_in_id(client, world.merchant) is None
    assert error_code(callback(client, None, state)) == "bad_state"  # used up


def test_unionid_joins_two_openids_to_one_member(client, browser, world, wechat):
    """member_for_wechat: a known unionid wins, and the member takes the openid of the account it signed in
    through now (the merchant moved to a new official account): JSAPI payments need that one."""
    _, state = start_wechat(client)
    wechat.register_code("CODE-A", "o-app1-carol", unionid="u-carol")
    callback(client, "CODE-A", state)
    (carol,) = members_where(unionid="u-carol")
    assert carol.openid == "o-app1-carol"

    other = browser()
    _, state = start_wechat(other)
    wechat.register_code("CODE-B", "o-app2-carol", unionid="u-carol")
    assert callback(other, "CODE-B", state).status_code == 302
    assert signed_in_id(other, world.merchant) == carol.id
    assert len(members_where(merchant_id=world.merchant.id)) == 1
    _db.session.expire_all()
    assert [m.id for m in members_where(openid="o-app2-carol")] == [carol.id]


def test_a_unionid_whose_new_openid_another_member_holds_changes_nothing(client, browser, world, wechat):
    _, state = start_wechat(client)
    wechat.register_code("CODE-A", "o-old-erin", unionid="u-erin")
    callback(client, "CODE-A", state)
    (erin,) = members_where(unionid="u-erin")
    other = browser()  # the same person signed in without a unionid first: a second member
    _, state = start_wechat(other)
    wechat.register_code("CODE-B", "o-new-erin")
    callback(other, "CODE-B", state)
    (twin,) = members_where(openid="o-new-erin")
    third = browser()
    _, state = start_wechat(third)
    wechat.register_code("CODE-C", "o-new-erin", unionid="u-erin")
    assert callback(third, "CODE-C", state).status_code == 302
    assert signed_in_id(third, world.merchant) == erin.id  # the unionid wins
    _db.session.expire_all()
    assert _db.session.get(type(erin), erin.id).openid == "o-old-erin"  # a merge is the merchant's call
    assert _db.session.get(type(twin), twin.id).openid == "o-new-erin"


def test_unionid_from_the_profile_is_recorded(client, world, wechat):
    _, state = start_wechat(client)
    wechat.register_code("CODE-1", "o-dave")  # silent grant without unionid
    callback(client, "CODE-1", state)
    (dave,) = members_where(openid="o-dave")
    assert dave.unionid is None
    _, state = start_wechat(client, profile="1")
    wechat.register_code("CODE-2", "o-dave", scope="snsapi_userinfo")
    wechat.set_user("o-dave", nickname="大卫", unionid="u-dave")
    callback(client, "CODE-2", state)
    _db.session.expire_all()
    assert [m.id for m in members_where(unionid="u-dave")] == [dave.id]


def test_different_unionids_are_different_members(client, browser, world, wechat):
    _, state = start_wechat(client)
    wechat.register_code("CODE-1", "o-erin", unionid="u-erin")
    callback(client, "CODE-1", state)
    other = browser()
    _, state = start_wechat(other)
    wechat.register_code("CODE-2", "o-frank", unionid="u-frank")
    callback(other, "CODE-2", state)
    assert signed_in_id(client, world.merchant) != signed_in_id(other, world.merchant)
    assert len(members_where(merchant_id=world.merchant.id)) == 2


def test_snapshot_user_is_asked_to_open_the_full_page(client, world, wechat):
    _, state = start_wechat(client, profile="1")
    wechat.register_code("CODE-S", "o-virtual", scope="snsapi_userinfo", snapshot=True)
    r = callback(client, "CODE-S", state)
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert 'data-code="wechat_snapshot_user"' in html and "使用完整服务" in html
    assert members_where(openid="o-virtual") == []
    assert signed_in_id(client, world.merchant) is None
    assert wechat.calls["/sns/userinfo"] == 0


def test_wrong_secret_is_a_wechat_problem_not_the_users(client, world, wechat, config):
    config(WECHAT_SECRET="not-the-secret")
    _, state = start_wechat(client)
    wechat.register_code("CODE-1", "o-alice")
    r = callback(client, "CODE-1", state)
    assert r.status_code == 502 and error_code(r) == "wechat_unavailable"
    assert members_where(openid="o-alice") == []


def test_one_oauth_client_per_configuration(app, wechat):
    from app.web.shop import auth

    with app.test_request_context():
        first = auth._client()
        assert auth._client() is first
        app.config["WECHAT_API_BASE"] = wechat.url + "/"
        assert auth._client() is not first
