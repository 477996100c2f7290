"""The pre-sale console: the editor refuses broken rules in words and saves a campaign (audited); the list
and the campaign page count deposits, balances and missed balances; pre-sale orders are marked in the
order list; a store manager reads only their store's pre-sales and cannot edit."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.core import clock
from app.core.database import commit
from app.extensions import db
from app.merchants.models import AuditEvent
from app.payments.models import PayMethod
from app.presales import service as presales
from app.presales import tasks as presale_tasks
from app.presales.models import PresaleCampaign, MissedBalance
from tests.presales.conftest import make_campaign
from tests.presales.test_presales import pay_due
from tests.support.factories import make_member, make_product
from tests.web.console_support import console_client, post

GOOD = {"title": "圣诞蛋糕预售", "full_price": "300", "deposit": "50", "deposit_value": "100",
        "deposit_starts_at": "2026-11-23T10:00", "deposit_ends_at": "2026-11-30T10:00",
        "balance_starts_at": "2026-12-01T00:00", "balance_ends_at": "2026-12-20T00:00",
        "pickup": "date", "pickup_from": "2026-12-24T00:00", "stock_total": "20", "per_member_limit": "2",
        "missed_balance": "refund", "coupons_on_balance": "1", "rules": "每人限 2 只", "status": "active"}


@pytest.fixture
def cake(world):
    sku = make_product(world.merchant, "圣诞蛋糕", (("6寸", 30000, None),), stock={world.store: 0}).skus[0]
    commit()
    return sku


@pytest.mark.parametrize("change, words", [
    ({"deposit_value": "40"}, "定金抵扣金额不能低于定金"),
    ({"deposit_value": "300"}, "定金抵扣金额须低于预售价"),
    ({"balance_starts_at": "2026-11-29T00:00"}, "尾款开始时间不能早于定金结束时间"),
    ({"deposit_ends_at": "2026-11-22T00:00"}, "定金结束时间须晚于开始时间"),
    ({"pickup": "days", "pickup_after_days": ""}, "请选择取货方式"),
    ({"pickup_from": "2026-11-30T00:00"}, "取货日期不能早于尾款开始时间"),
])
def test_the_editor_refuses_broken_rules_in_words(app, world, cake, change, words):
    owner = console_client(app, world.owner)
    r = post(owner, "/console/presales/new", sku_id=str(cake.id), store_id=str(world.store.id), **{**GOOD, **change})
    assert r.status_code == 400 and words in r.get_data(as_text=True)
    assert db.session.query(PresaleCampaign).count() == 0


def test_the_editor_saves_and_the_pages_count_deposits_balances_and_missed(frozen, app, world, cake):
    owner = console_client(app, world.owner)
    r = post(owner, "/console/presales/new", sku_id=str(cake.id), store_id=str(world.store.id), **GOOD)
    assert r.status_code == 303
    c = db.session.query(PresaleCampaign).one()
    assert (c.full_price_fen, c.deposit_fen, c.deposit_value_fen, c.balance_fen) == (30000, 5000, 10000, 20000)
    assert c.missed_balance is MissedBalance.REFUND and c.coupons_on_balance and c.stock_left == 20
    assert db.session.query(AuditEvent).filter_by(action="presale.create").count() == 1

    fast = make_campaign(world.merchant, cake, world.store, title="快速预售")
    members = [make_member(world.merchant, n) for n in ("甲", "乙")]
    commit()
    orders = [presales.place_deposit(world.merchant, m, fast.id, quantity=1, pay_method=PayMethod.SANDBOX,
                                     now=clock.now_utc()) for m in members]
    commit()
    for o in orders:
        pay_due(o)
    clock.advance(timedelta(days=1, minutes=1))
    pay_due(orders[0])  # the balance of one
    clock.advance(timedelta(days=2))
    assert presale_tasks.settle_missed() == 1  # the other missed it: its deposit refunded
    owner = console_client(app, world.owner)  # a fresh sign-in three days later
    page = owner.get("/console/presales").get_data(as_text=True)
    assert "快速预售" in page and "圣诞蛋糕预售" in page
    row = page[page.index(f'data-campaign-id="{fast.id}"'):]
    assert '<td data-testid="balances">1</td>' in row and '<td data-testid="missed">1</td>' in row
    detail = owner.get(f"/console/presales/{fast.id}").get_data(as_text=True)
    assert detail.count('data-testid="presale-order-row"') == 2
    assert 'data-presale-status="missed"' in detail and 'data-presale-status="balance_paid"' in detail
    assert "未付尾款定金自动原路退回" in detail and 'data-testid="refund-state"' in detail
    listing = owner.get("/console/orders").get_data(as_text=True)
    assert listing.count('data-testid="presale-mark"') == 2
    for o in orders:
        r = owner.get(f"/console/orders/{o.id}")
        assert r.status_code == 200 and 'data-testid="presale-mark"' in r.get_data(as_text=True)
        assert "定金 ¥50.00" in r.get_data(as_text=True)
    detail = owner.get(f"/console/orders/{orders[0].id}").get_data(as_text=True)
    assert 'action="/console/orders/%d/refund"' % orders[0].id in detail  # the store refunds a paid pre-sale


def test_a_manager_reads_their_stores_presales_and_cannot_edit(app, world, cake):
    ours = make_campaign(world.merchant, cake, world.store, title="本店预售")
    theirs = make_campaign(world.merchant, cake, world.store_b, title="隔壁预售")
    commit()
    manager = console_client(app, world.manager)
    page = manager.get("/console/presales").get_data(as_text=True)
    assert "本店预售" in page and "隔壁预售" not in page
    assert manager.get(f"/console/presales/{theirs.id}").status_code == 404
    assert manager.get(f"/console/presales/{ours.id}/edit").status_code == 403


def test_the_deal_is_fixed_once_someone_ordered(app, world, cake):
    owner = console_client(app, world.owner)
    post(owner, "/console/presales/new", sku_id=str(cake.id), store_id=str(world.store.id), **GOOD)
    c = db.session.query(PresaleCampaign).one()
    presales.place_deposit(world.merchant, make_member(world.merchant), c.id, quantity=1,
                           pay_method=PayMethod.SANDBOX, now=c.deposit_starts_at + timedelta(minutes=1))
    commit()
    form = dict(GOOD, sku_id=str(cake.id), store_id=str(world.store.id))
    r = post(owner, f"/console/presales/{c.id}/edit", **dict(form, deposit="40"))
    assert r.status_code == 400 and "已有顾客下单" in r.get_data(as_text=True)
    r = post(owner, f"/console/presales/{c.id}/edit", **dict(form, stock_total="30", rules="新的说明"))
    assert r.status_code == 303
    db.session.expire_all()
    c = db.session.get(PresaleCampaign, c.id)
    assert (c.deposit_fen, c.stock_total, c.stock_left, c.rules) == (5000, 30, 29, "新的说明")
    [event] = db.session.query(AuditEvent).filter_by(action="presale.update").all()
    assert event.before["stock_total"] == 20 and event.after["stock_total"] == 30 and "rules" in event.after
