"""The console dashboard at /console/: today's numbers against yesterday, per store, the 30-day CSV; a store
manager sees their own store only, and no one sees another merchant's numbers."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

import pytest

from app.core import clock
from app.core.database import commit
from app.extensions import db
from app.merchants.models import Role
from app.orders import service as orders
from app.payments.models import PayMethod
from app.vouchers import redeem as redeeming
from app.vouchers import service as vouchers
from app.vouchers.models import Voucher
from tests.orders.test_orders import pay, place
from tests.support.factories import make_member, make_product, make_staff
from tests.web.console_support import console_client


def shown(html: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}">([^<]*)<', html)
    assert match, testid
    return match.group(1).strip()


@pytest.fixture
def busy(world, frozen):
    """Yesterday one order at store A; today (14:00 Shanghai) two at A (one picked up 30 minutes after paying),
    one at B; the second merchant sells something too."""
    product = make_product(world.merchant, "拿铁", (("中杯", 2800, 2500),), stock={world.store: 20, world.store_b: 20})
    sku = product.skus[0]
    member = make_member(world.merchant, "小明")
    other_sku = make_product(world.other_merchant, "吐司", (("整条", 1900, None),), stock={world.other_store: 9}).skus[0]
    other_member = make_member(world.other_merchant, "小红")
    commit()
    clock.freeze(frozen - timedelta(days=1))
    pay(place(world, member, [(sku, 1)]))
    clock.freeze(frozen - timedelta(minutes=30))
    first = place(world, member, [(sku, 2)])
    pay(first)
    clock.freeze(frozen)
    actor = vouchers.Actor(merchant_id=world.merchant.id, store_id=world.store.id, staff_id=world.cashier.id)
    redeeming.redeem(db.session.get(Voucher, db.session.get(type(first), first.id).voucher_id), actor)
    commit()
    pay(place(world, member, [(sku, 1)]))
    pay(place(world, member, [(sku, 4)], store=world.store_b))
    pay(orders.place_order(world.other_merchant, world.other_store, other_member, [orders.LineRequest(other_sku.id, 3)],
                           pay_method=PayMethod.SANDBOX))
    return world


def test_the_owner_sees_todays_numbers_against_yesterday(app, busy):
    html = console_client(app, busy.owner).get("/console/").get_data(as_text=True)
    assert shown(html, "today-sales") == "175.00"  # 5000 + 2500 at A, 10000 at B
    assert shown(html, "yesterday-sales") == "25.00"
    assert (shown(html, "today-orders"), shown(html, "yesterday-orders")) == ("3", "1")
    assert (shown(html, "today-pickups"), shown(html, "today-redemptions")) == ("1", "1")
    assert shown(html, "today-wait").startswith("30")
    assert html.count('data-testid="dashboard-store-row"') == 2
    assert html.count('data-testid="dashboard-day"') == 30
    data = json.loads(re.search(r'id="dashboard-data">(.*?)</script>', html, re.S).group(1))
    assert data["sales"][-2:] == [25.0, 175.0] and data["orders"] == [3, 1] and data["pickups"] == [1, 0]
    assert busy.other_merchant.name not in html and busy.other_store.name not in html
    assert "vendor/chartjs/chart.umd.min.js" in html


def test_an_operator_sees_every_store_and_may_pick_one(app, busy):
    operator = make_staff(busy.merchant, "operator", Role.OPERATOR, name="赵运营")
    db.session.commit()
    c = console_client(app, operator)
    assert shown(c.get("/console/").get_data(as_text=True), "today-orders") == "3"
    html = c.get(f"/console/?store={busy.store_b.id}").get_data(as_text=True)
    assert shown(html, "today-orders") == "1" and shown(html, "today-sales") == "100.00"
    assert html.count('data-testid="dashboard-store-row"') == 1


def test_a_manager_sees_their_own_store_only(app, busy):
    c = console_client(app, busy.manager)
    html = c.get("/console/").get_data(as_text=True)
    assert shown(html, "today-orders") == "2" and shown(html, "today-sales") == "75.00"
    assert html.count('data-testid="dashboard-store-row"') == 1 and busy.store_b.name not in html
    assert c.get(f"/console/?store={busy.store_b.id}").status_code == 404
    assert c.get(f"/console/dashboard.csv?store={busy.store_b.id}").status_code == 404
    assert c.get(f"/console/?store={busy.store.id}").status_code == 200


def test_another_merchants_store_is_not_found(app, busy):
    c = console_client(app, busy.owner)
    assert c.get(f"/console/?store={busy.other_store.id}").status_code == 404
    assert c.get(f"/console/dashboard.csv?store={busy.other_store.id}").status_code == 404


def test_the_csv_has_thirty_days_newest_first_with_a_bom(app, busy):
    response = console_client(app, busy.owner).get("/console/dashboard.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["date", "sales_yuan", "payments"] and len(rows) == 31
    today = dict(zip(rows[0], rows[1]))
    assert today["date"] == "2026-11-23" and today["sales_yuan"] == "175.00" and today["orders"] == "3"
    assert today["avg_paid_to_pickup_minutes"] == "30.0"
    assert rows[2][0] == "2026-11-22" and rows[2][1] == "25.00"


def test_a_pay_at_store_collection_counts_when_collected(app, world, frozen):
    sku = make_product(world.merchant, "拿铁", (("中杯", 2800, 2500),), stock={world.store: 5}).skus[0]
    member = make_member(world.merchant, "小明")
    commit()
    order = place(world, member, [(sku, 1)], pay_method=PayMethod.STORE)
    html = console_client(app, world.owner).get("/console/").get_data(as_text=True)
    assert shown(html, "today-sales") == "0.00" and shown(html, "today-orders") == "1"
    actor = vouchers.Actor(merchant_id=world.merchant.id, store_id=world.store.id, staff_id=world.cashier.id)
    redeeming.redeem(db.session.get(Voucher, order.voucher_id), actor)
    commit()
    html = console_client(app, world.owner).get("/console/").get_data(as_text=True)
    assert shown(html, "today-sales") == "25.00" and shown(html, "today-wait") == "—"


def test_the_dashboard_speaks_english(app, busy):
    html = console_client(app, busy.owner).get("/console/?lang=en").get_data(as_text=True)
    assert "Sales (yuan)" in html and "Today by store" in html and "30.0 min" in html
