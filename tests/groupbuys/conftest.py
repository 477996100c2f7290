"""Group-buy fixtures: a running campaign (group price ¥20 for a ¥28 latte, teams of 3, 24 h) and payments
through the real path (payments.apply_payment_result, as the sandbox page and WeChat's notification do)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.core.clock import now_utc
from app.core.database import commit
from app.extensions import db
from app.groupbuys.models import CampaignStatus, GroupBuyCampaign, GroupBuyCampaignStore
from app.orders import handover
from app.payments import service as payments
from app.payments.models import PayMethod
from tests.support.factories import make_member, make_product


def make_campaign(merchant, sku, stores, *, size=3, hours=24, stock=30, limit=1, leader_price=None,
                  starts=None, ends=None) -> GroupBuyCampaign:
    now = now_utc()
    c = GroupBuyCampaign(merchant_id=merchant.id, sku_id=sku.id, title="拿铁 3 人团", group_price_fen=2000,
                 leader_price_fen=leader_price, team_size=size, time_limit_hours=hours,
                 starts_at=starts or now - timedelta(days=1), ends_at=ends or now + timedelta(days=7),
                 stock_left=stock, per_member_limit=limit, rules="3 人成团，24 小时内未成团自动退款。",
                 status=CampaignStatus.ACTIVE, store_links=[GroupBuyCampaignStore(store_id=s.id) for s in stores])
    db.session.add(c)
    db.session.flush()
    return c


def pay(order, method=PayMethod.SANDBOX):
    payment = handover.open_payment(order)
    payments.apply_payment_result(payments.PaymentResult(payment.out_trade_no, True, payment.amount_fen,
                                                         f"T{payment.id}"))
    commit()
    db.session.expire_all()
    return payment


@pytest.fixture
def latte(world):
    return make_product(world.merchant, "拿铁", (("中杯", 2800, 2500),), stock={world.store: 50, world.store_b: 50})


@pytest.fixture
def campaign(world, latte):
    c = make_campaign(world.merchant, latte.skus[0], [world.store, world.store_b])
    commit()
    return c


@pytest.fixture
def members(world):
    ms = [make_member(world.merchant, f"团员{i}") for i in range(6)]
    commit()
    return ms
