"""Fixtures for the WeChat adapters against the local fake WeChat (no database, no Flask app)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # so `app` and `tests.fakes` import however pytest was started
    sys.path.insert(0, str(ROOT))

from wechatpy.session.memorystorage import MemoryStorage  # noqa: E402

from app.integrations.wechat import JSSDK, WeChatOAuthClient, WeChatPayClient  # noqa: E402
from tests.fakes.wechat_server import FakeWeChat, default_keys  # noqa: E402


@pytest.fixture(scope="session")
def wx_keys():
    """Merchant, platform (public-key mode), platform-certificate and attacker RSA keys; generated once."""
    return default_keys()


@pytest.fixture(scope="session")
def _fake_wechat_server(wx_keys):
    fake = FakeWeChat(wx_keys).start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_wechat(_fake_wechat_server):
    """The running fake (``.url``), with fresh state and public-key signing for every test."""
    fake = _fake_wechat_server
    fake.reset()
    fake.signing_mode = "public_key"
    yield fake
    fake.reset()
    fake.signing_mode = "public_key"


@pytest.fixture
def wx_oauth(fake_wechat):
    return WeChatOAuthClient(fake_wechat.appid, fake_wechat.secret, api_base=fake_wechat.url)


@pytest.fixture
def wx_token_storage():
    """The storage every JSSDK instance of a test shares (stands in for RedisStorage)."""
    return MemoryStorage()


@pytest.fixture
def wx_jssdk(fake_wechat, wx_token_storage):
    return JSSDK(fake_wechat.appid, fake_wechat.secret, storage=wx_token_storage, api_base=fake_wechat.url)


@pytest.fixture
def wx_pay(fake_wechat):
    """Pay client in public-key mode (the mode new merchants get)."""
    return WeChatPayClient(**fake_wechat.pay_config("public_key"))


@pytest.fixture
def wx_pay_cert(fake_wechat, tmp_path):
    """Pay client in platform-certificate mode; the certificate is downloaded from the fake's /v3/certificates
    into an empty cert_dir at construction."""
    fake_wechat.signing_mode = "certificate"
    return WeChatPayClient(**fake_wechat.pay_config("certificate", cert_dir=str(tmp_path / "certs")))


@pytest.fixture(params=["public_key", "certificate"])
def wx_pay_any(request, fake_wechat, tmp_path):
    """Pay client in each key mode (the fake signs accordingly)."""
    fake_wechat.signing_mode = request.param
    cert_dir = str(tmp_path / "certs") if request.param == "certificate" else None
    return WeChatPayClient(**fake_wechat.pay_config(request.param, cert_dir=cert_dir))
