"""Thirty days of trade for the demo merchant, so that a newcomer's console has numbers to show: orders
placed, paid online or at the store, picked up at the counter by the store's cashier, a few refunded or
cancelled, some reviewed, and today's not yet picked up (the counter has pickups waiting).

Everything goes through the domains' own functions (place, pay, redeem, refund, cancel, review) with the
clock set back to each moment, so the figures are exactly what the app would have recorded. Stock is
topped up before and set back after (a merchant restocks daily). Loaded once: a merchant with orders is
left alone. `flask demo --history` (what `make run` does); the tests' and benchmarks' demo has none.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.catalog.models import Product, Sku, StoreStock
from app.core import clock
from app.core.clock import SHANGHAI, now_utc
from app.extensions import db
from app.members.models import Member
from app.members.service import demo_member
from app.merchants.models import Merchant, Role, Staff, Store
from app.orders import handover
from app.orders import reviews
from app.orders import service as orders
from app.orders.models import Order, OrderStatus
from app.payments import service as payments
from app.payments.models import PayMethod, Refund, RefundStatus
from app.vouchers import redeem as redeeming
from app.vouchers.models import Voucher
from app.vouchers.service import Actor

DAYS = 30
NICKNAMES = ["阿杰", "小雨", "Lily", "王先生", "陈女士", "周周", "大宝", "Kevin", "林林", "小鹿", "豆豆", "Amy",
             "老张", "晓晓", "Tony", "思思", "阿May", "小胖", "安安", "Leo"]
REVIEWS = [(5, "很好喝，取货很快。"), (5, "店员很热情，下次还来。"), (4, "味道不错，就是人有点多。"),
           (5, "可颂很酥，推荐！"), (4, "包装很好，到店扫码就拿到了。"), (3, "稍微有点甜。")]


def load(merchant_id: int, *, seed: int = 2026) -> int:
    """Places the merchant's past month of orders unless it has orders already; returns how many."""
    merchant = db.session.get(Merchant, merchant_id)
    if db.session.execute(sa.select(Order.id).where(Order.merchant_id == merchant.id).limit(1)).first():
        return 0
    rng = random.Random(seed)
    stores = list(db.session.execute(sa.select(Store).where(Store.merchant_id == merchant.id, Store.active)
                                     .order_by(Store.id)).scalars())
    cashiers = {s.store_id: s for s in db.session.execute(sa.select(Staff).where(
        Staff.merchant_id == merchant.id, Staff.role == Role.CASHIER).order_by(Staff.id)).scalars()}
    skus = list(db.session.execute(sa.select(Sku).join(Product).where(
        Product.merchant_id == merchant.id, Product.active, Sku.active).order_by(Sku.id)).scalars())
    members = [demo_member(merchant.id, name) for name in NICKNAMES]
    stock = {(row.store_id, row.sku_id): row.quantity for row in db.session.execute(
        sa.select(StoreStock).where(StoreStock.store_id.in_([s.id for s in stores]))).scalars()}
    _set_stock(stock, lambda quantity: quantity + 10_000)
    now = now_utc()
    placed = 0
    try:
        for days_ago in range(DAYS - 1, -1, -1):
            day = (now.astimezone(SHANGHAI) - timedelta(days=days_ago)).date()
            weekend = day.weekday() >= 5
            for _ in range(rng.randint(9, 16) if weekend else rng.randint(5, 11)):
                at = datetime(day.year, day.month, day.day, rng.randint(8, 19), rng.randint(0, 59),
                              tzinfo=SHANGHAI)
                if at > now - timedelta(hours=1):
                    continue
                store = rng.choice(stores)
                _one_order(rng, merchant, store, cashiers.get(store.id), rng.choice(members), skus, at, now)
                placed += 1
    finally:
        clock.freeze(None)
    _set_stock(stock, lambda quantity: quantity)
    db.session.flush()
    return placed


def _one_order(rng: random.Random, merchant: Merchant, store: Store, cashier: Staff | None, member: Member,
               skus: list[Sku], at: datetime, now: datetime) -> None:
    """One order placed at `at`; whatever follows it happens before `now`."""
    def later(minutes: int) -> None:
        clock.freeze(min(at + timedelta(minutes=minutes), now - timedelta(minutes=1)))

    clock.freeze(at)
    lines = [orders.LineRequest(sku.id, rng.choice((1, 1, 1, 2))) for sku in rng.sample(skus, rng.choice((1, 1, 2, 3)))]
    online = rng.random() < 0.7
    order = orders.place_order(merchant, store, member, lines, pay_method=PayMethod.SANDBOX if online else PayMethod.STORE)
    fate = rng.random()
    if online:
        if fate < 0.05:  # never paid: cancelled by the shopper
            later(3)
            orders.cancel(order, reason="不想要了")
            return
        later(1)
        payment = handover.open_payment(order)
        payments.apply_payment_result(payments.PaymentResult(payment.out_trade_no, True, payment.amount_fen,
                                                             f"DEMO{payment.id}"))
        db.session.refresh(order)
        if fate < 0.10:  # refunded before the pickup
            later(rng.randint(5, 40))
            orders.refund(order, reason="顾客申请退款")
            _send_refunds(order.id)
            return
    if (now - at < timedelta(hours=24) and fate > 0.5) or cashier is None:
        return  # still to be picked up: the counter has it waiting
    later(rng.randint(8, 90))
    voucher = db.session.get(Voucher, order.voucher_id)
    redeeming.redeem(voucher, Actor(merchant_id=merchant.id, store_id=store.id, staff_id=cashier.id,
                                    device_id="demo-tablet"))
    db.session.refresh(order)
    if order.status is OrderStatus.PICKED_UP and rng.random() < 0.3:
        later(60 * rng.randint(2, 30))
        rating, body = rng.choice(REVIEWS)
        reviews.write_review(order, member.id, order.lines[0].product_id, rating=rating, body=body, now=now_utc())


def _send_refunds(order_id: int) -> None:
    """What the refund task does after the commit, done now: the sandbox gives the money back at once, so the
    refund counts on its own day (the dashboard counts refunds by when they succeeded)."""
    pending = db.session.execute(sa.select(Refund.id, Refund.out_refund_no).where(
        Refund.order_id == order_id, Refund.status == RefundStatus.PENDING)).all()
    for refund_id, number in pending:
        if payments.start_refund_attempt(refund_id):
            outcome = payments.send_refund(refund_id)
            payments.apply_refund_result(number, outcome.status, detail=outcome.detail)


def _set_stock(original: dict[tuple[int, int], int], quantity) -> None:
    """Every stock row set to `quantity(original)`: topped up for the history, then back to the demo's figures
    (what the history sold is restocked)."""
    for (store_id, sku_id), q in original.items():
        db.session.execute(sa.update(StoreStock).where(StoreStock.store_id == store_id, StoreStock.sku_id == sku_id)
                           .values(quantity=quantity(q)))
