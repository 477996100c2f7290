"""The demo's past month (`flask demo --history`, what `make run` loads): the console opens on real
numbers, made by the domains themselves, and nothing the demo promises is changed by it."""
from __future__ import annotations

import json
import re
from collections import Counter
from datetime import timedelta

import sqlalchemy as sa

from app import demo, demo_history
from app.catalog.models import Review, StoreStock
from app.core.clock import SHANGHAI, now_utc
from app.core.database import commit
from app.extensions import db
from app.merchants.models import Staff
from app.orders.models import Order, OrderStatus
from app.payments.models import Refund, RefundStatus
from app.vouchers.models import Redemption
from tests.web.console_support import console_client


def stock() -> dict[tuple[int, int], int]:
    rows = db.session.execute(sa.select(StoreStock.store_id, StoreStock.sku_id, StoreStock.quantity))
    return {(store_id, sku_id): q for store_id, sku_id, q in rows}


def test_a_month_of_orders_pickups_and_reviews_that_the_console_shows(app, db):
    out = demo.load(app.config["SECRET_KEY"])
    commit()
    merchant_id = out["merchant"]["id"]
    stock_before = stock()

    placed = demo_history.load(merchant_id)
    commit()
    assert placed > 150
    orders = list(db.session.execute(sa.select(Order).where(Order.merchant_id == merchant_id)).scalars())
    assert len(orders) == placed
    now = now_utc()
    assert all(o.created_at < now for o in orders)
    days = {o.created_at.astimezone(SHANGHAI).date() for o in orders}
    assert len(days) >= 25, "spread over the month"
    statuses = Counter(o.status for o in orders)
    assert statuses[OrderStatus.PICKED_UP] > 100
    assert statuses[OrderStatus.REFUNDED] and statuses[OrderStatus.CANCELLED]
    # Picked up at the counter of the order's own store, by that store's cashier.
    cashier_store = dict(db.session.execute(sa.select(Staff.id, Staff.store_id)).all())
    redemptions = list(db.session.execute(sa.select(Redemption)).scalars())
    assert len(redemptions) == statuses[OrderStatus.PICKED_UP]
    assert all(cashier_store[r.staff_id] == r.store_id for r in redemptions)
    assert db.session.execute(sa.select(sa.func.count()).select_from(Review)).scalar() > 20
    # A refund gave the money back on its own day (the dashboard counts refunds by when they succeeded).
    refunds = list(db.session.execute(sa.select(Refund)).scalars())
    assert refunds and all(r.status is RefundStatus.SUCCEEDED and r.succeeded_at - r.created_at < timedelta(minutes=1)
                           for r in refunds)
    # The stock the demo shows is the demo's: what the month sold was restocked.
    assert stock() == stock_before

    owner = db.session.execute(sa.select(Staff).where(Staff.merchant_id == merchant_id,
                                                      Staff.username == "owner")).scalar_one()
    html = console_client(app, owner).get("/console/").get_data(as_text=True)
    data = json.loads(re.search(r'id="dashboard-data">(.*?)</script>', html, re.S).group(1))
    assert sum(data["sales"]) > 1000 and sum(data["pickups"]) > 100
    assert sum(1 for v in data["sales"] if v > 0) >= 25

    # Loaded once: a merchant with orders is left alone.
    assert demo_history.load(merchant_id) == 0
    assert db.session.execute(sa.select(sa.func.count()).select_from(Order)).scalar() == placed
    assert now - max(o.created_at for o in orders) < timedelta(days=2)
