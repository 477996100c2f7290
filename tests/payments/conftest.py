"""WeChat Pay through our real code paths: the app configured against the local fake WeChat (real RSA
signatures on requests, responses and notifications; AES-GCM encrypted resources)."""
from __future__ import annotations

import pytest

from app.core.database import commit
from app.members.service import member_for_wechat
from app.orders import service as orders
from app.payments.models import PayMethod
from app.web.payments import checkout_for
from tests.fakes.wechat_server import FakeWeChat, default_keys
from tests.support.factories import make_product


def notify(client, headers, body, kind="payment"):
    """POSTs a notification built by the fake to our webhook, as WeChat does."""
    return client.post(f"/webhooks/wechatpay/{kind}", data=body, headers=headers)


@pytest.fixture(scope="module")
def fake():
    """The fake WeChat, one per module; `wechat` resets it for each test."""
    server = FakeWeChat(default_keys()).start()
    yield server
    server.stop()


@pytest.fixture
def wechat(app, fake, tmp_path):
    fake.reset()
    keys = default_keys()
    (tmp_path / "apiclient_key.pem").write_text(keys.merchant_private_pem)
    (tmp_path / "pub_key.pem").write_text(keys.platform_public_pem)
    saved = {k: app.config[k] for k in app.config if k.startswith("WECHAT") or k == "APP_BASE_URL"}
    app.config.update(
        APP_BASE_URL="https://shop.test", WECHAT_APPID=fake.appid, WECHAT_PAY_MCHID=fake.mchid,
        WECHAT_PAY_PRIVATE_KEY_PATH=str(tmp_path / "apiclient_key.pem"),
        WECHAT_PAY_CERT_SERIAL_NO=keys.merchant_serial, WECHAT_PAY_APIV3_KEY=fake.apiv3_key,
        WECHAT_PAY_PUBLIC_KEY_PATH=str(tmp_path / "pub_key.pem"), WECHAT_PAY_PUBLIC_KEY_ID=keys.public_key_id,
        WECHAT_PAY_CERT_DIR="", WECHAT_PAY_GATEWAY=fake.url, WECHAT_PAY_TIMEOUT=1.0,
    )
    yield fake
    app.config.update(saved)


@pytest.fixture
def paying(world, wechat, app):
    product = make_product(world.merchant, "拿铁", (("中杯", 2800, 2500),), stock={world.store: 5})
    member = member_for_wechat(world.merchant.id, openid="o-wx-openid-1", nickname="微信用户")
    order = orders.place_order(world.merchant, world.store, member, [orders.LineRequest(product.skus[0].id, 2)],
                               pay_method=PayMethod.WECHAT)
    commit()
    with app.test_request_context():
        payment, checkout = checkout_for(order, member)
    return order, payment, checkout, member


