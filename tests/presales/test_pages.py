"""Pre-sale pages: the product page lists the pre-sale with its dates; its page shows the rules in full before
anyone pays (deposit, its value, balance, windows, pickup, refundability); the deposit is refused without
accepting them; the order page tells what is due when; the balance is refused before its window and paid in
it; the pickup voucher then waits for the pickup date."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.core import clock
from app.core.database import commit
from app.extensions import db
from app.orders.models import Order, OrderStatus
from app.presales.models import MissedBalance, PresaleCampaign
from tests.conftest import member_client
from tests.presales.conftest import make_campaign
from tests.support.factories import make_member, make_product


@pytest.fixture
def campaign(world):
    cake = make_product(world.merchant, "圣诞蛋糕", (("6寸", 30000, None),), stock={world.store: 0}).skus[0]
    c = make_campaign(world.merchant, cake, world.store, missed=MissedBalance.FORFEIT)
    commit()
    return c


def _order_id(location: str) -> int:
    return int(re.search(r"/orders/(\d+)", location).group(1))


def _pay_sandbox(c, url):
    r = c.get(url)
    assert r.status_code == 302 and "/pay/sandbox/" in r.headers["Location"], r.headers.get("Location")
    r = c.post(r.headers["Location"], data={"result": "success"})
    assert r.status_code == 302


def test_the_product_page_lists_the_presale_and_its_page_shows_every_rule_before_paying(frozen, client, world, campaign):
    html = client.get(f"/m/test-coffee/p/{_product_id(campaign)}").get_data(as_text=True)
    assert 'data-testid="presale-card"' in html and "定金 ¥50 抵 ¥100，尾款 ¥200" in html
    assert "11月22日 14:00 – 11月24日 14:00" in html  # the deposit window, Shanghai time
    page = client.get(f"/m/test-coffee/presale/{campaign.id}").get_data(as_text=True)
    for text in ("¥300.00", "¥50.00", "¥100.00", "¥200.00", "11月24日 14:00 – 11月26日 14:00", "11-27 起",
                 "定金不退", "尾款不可使用优惠券", "定金支付后不可取消"):
        assert text in page, text
    assert 'data-testid="signin"' in page and 'data-testid="deposit-form"' not in page  # sign in to pay


def _product_id(campaign) -> int:
    from app.catalog.models import Sku

    return db.session.get(Sku, campaign.sku_id).product_id


def test_deposit_balance_pickup_through_the_pages(frozen, app, world, campaign):
    member = make_member(world.merchant)
    commit()
    me = member_client(app, member)
    url = f"/m/test-coffee/presale/{campaign.id}"
    r = me.post(url, data={"quantity": "1"})  # the rules not accepted
    assert r.status_code == 303
    assert "请先阅读并同意预售规则" in me.get(url).get_data(as_text=True)
    assert db.session.query(Order).count() == 0
    r = me.post(url, data={"quantity": "1", "agree": "1"})
    assert r.status_code == 303 and r.headers["Location"].endswith("/pay")
    order_id = _order_id(r.headers["Location"])
    _pay_sandbox(me, f"/orders/{order_id}/pay")
    db.session.expire_all()
    assert db.session.get(Order, order_id).status is OrderStatus.DEPOSIT_PAID
    page = me.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "待付尾款" in page and 'data-testid="balance-soon"' in page and 'data-testid="pay-balance"' not in page
    r = me.get(f"/orders/{order_id}/balance")  # before the window: refused in words
    assert r.status_code == 303
    assert "尾款支付时间为 11月24日 14:00 – 11月26日 14:00" in me.get(f"/orders/{order_id}").get_data(as_text=True)

    clock.advance(timedelta(days=1, minutes=1))
    page = me.get(f"/orders/{order_id}").get_data(as_text=True)
    assert 'data-testid="balance-open"' in page and "支付尾款 ¥200.00" in page
    _pay_sandbox(me, f"/orders/{order_id}/balance")
    db.session.expire_all()
    order = db.session.get(Order, order_id)
    assert order.status is OrderStatus.READY and order.voucher_id is not None
    page = me.get(f"/orders/{order_id}").get_data(as_text=True)
    assert 'data-testid="pickup"' in page and "11-27 起" in page
    assert 'data-testid="refund-button"' not in page  # a pre-sale is refunded by the store
    r = me.post(f"/orders/{order_id}/refund", data={"reason": "不想要了"})
    assert r.status_code == 400
    db.session.expire_all()
    assert db.session.get(Order, order_id).status is OrderStatus.READY


def test_a_warm_product_page_with_a_presale_is_still_one_query_and_a_saved_campaign_shows_at_once(
        frozen, client, world, campaign):
    from tests.web.test_catalog_snapshot import SelectCounter
    from tests.web.console_support import console_client, post

    url = f"/m/test-coffee/p/{_product_id(campaign)}?store={world.store.id}"
    assert "预售 · 圣诞蛋糕" in client.get(url).get_data(as_text=True)
    with SelectCounter() as reads:
        html = client.get(url).get_data(as_text=True)
    assert len(reads.seen) == 1, reads.seen
    assert 'data-testid="presale-card"' in html
    owner = console_client(client.application, world.owner)
    c = db.session.get(PresaleCampaign, campaign.id)
    form = {"title": "平安夜蛋糕预售", "sku_id": str(c.sku_id), "store_id": str(c.store_id), "full_price": "300",
            "deposit": "50", "deposit_value": "100", "deposit_starts_at": "2026-11-22T14:00",
            "deposit_ends_at": "2026-11-24T14:00", "balance_starts_at": "2026-11-24T14:00",
            "balance_ends_at": "2026-11-26T14:00", "pickup": "date", "pickup_from": "2026-11-27T14:00",
            "stock_total": "5", "per_member_limit": "2", "missed_balance": "forfeit", "status": "active"}
    assert post(owner, f"/console/presales/{c.id}/edit", **form).status_code == 303
    assert "平安夜蛋糕预售" in client.get(url).get_data(as_text=True)  # the next page, not a stale snapshot


def test_the_rules_in_english(frozen, client, world, campaign):
    page = client.get(f"/m/test-coffee/presale/{campaign.id}?lang=en").get_data(as_text=True)
    for text in ("Nov 24 14:00 – Nov 26 14:00", "from 11-27", "Non-refundable deposit", "No coupons on the balance",
                 "Sign in to pay the deposit"):
        assert text in page, text
