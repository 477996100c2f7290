"""The dashboard's figures equal independent SQL counts over orders made through the real services, across a
Shanghai midnight: what happens at 23:59 counts on that day, what happens at 00:01 on the next."""
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.core import clock
from app.core.clock import SHANGHAI, end_of_day, start_of_day
from app.core.database import commit
from app.core.db import UTCDateTime
from app.extensions import db
from app.orders import handover
from app.orders import service as orders
from app.payments import service as payments
from app.payments.models import PayMethod
from app.reports.figures import daily, last_days
from app.vouchers import redeem as redeeming
from app.vouchers import service as vouchers
from app.vouchers.models import Voucher
from tests.support.factories import make_member, make_product, make_voucher

DAY = date(2026, 11, 23)
NEXT = DAY + timedelta(days=1)


def at(day: date, hh: int, mm: int) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=SHANGHAI)


def place(merchant, store, member, sku, quantity=1, **kw):
    kw.setdefault("pay_method", PayMethod.SANDBOX)
    order = orders.place_order(merchant, store, member, [orders.LineRequest(sku.id, quantity)], **kw)
    commit()
    return order


def pay(order):
    payment = handover.open_payment(order)
    payments.apply_payment_result(payments.PaymentResult(payment.out_trade_no, True, payment.amount_fen, "T1"))
    commit()


def redeem(world, store, voucher_id, staff):
    actor = vouchers.Actor(merchant_id=world.merchant.id, store_id=store.id, staff_id=staff.id)
    result = redeeming.redeem(db.session.get(Voucher, voucher_id), actor)
    commit()
    return result, actor


@pytest.fixture
def midnight(world):
    """Two stores of one merchant and a second merchant, busy on both sides of 2026-11-23's Shanghai midnight."""
    product = make_product(world.merchant, "拿铁", (("中杯", 2800, 2500),), stock={world.store: 50, world.store_b: 50})
    sku = product.skus[0]
    member = make_member(world.merchant, "小明")
    other_sku = make_product(world.other_merchant, "吐司", (("整条", 1900, None),), stock={world.other_store: 9}).skus[0]
    other_member = make_member(world.other_merchant, "小红")
    commit()
    m, a, b = world.merchant, world.store, world.store_b

    clock.freeze(at(DAY, 23, 40))
    early = place(m, a, member, sku, 2)  # placed and paid on DAY, picked up 23:59 on DAY
    pay(early)
    clock.freeze(at(DAY, 23, 59))
    redeem(world, a, db.session.get(type(early), early.id).voucher_id, world.cashier)
    late = place(m, a, member, sku, 1)  # placed and paid at 23:59 on DAY, picked up 00:01 on NEXT
    pay(late)
    at_store = place(m, b, member, sku, 3, pay_method=PayMethod.STORE)  # placed on DAY, collected on NEXT
    refunded = place(m, b, member, sku, 1)  # paid on DAY, refunded on NEXT
    pay(refunded)
    other = place(world.other_merchant, world.other_store, other_member, other_sku, 2)  # never ours
    pay(other)
    card = make_voucher(m, uses=3)  # a multi-use card: one use on DAY, one on NEXT and one undone
    commit()
    redeem(world, a, card.id, world.cashier)

    clock.freeze(at(NEXT, 0, 1))
    redeem(world, a, db.session.get(type(late), late.id).voucher_id, world.cashier)
    redeem(world, b, db.session.get(type(at_store), at_store.id).voucher_id, world.cashier_b)
    orders.refund(db.session.get(type(refunded), refunded.id), reason="不想要了")
    commit()
    redeem(world, b, card.id, world.cashier_b)
    clock.advance(timedelta(minutes=1))
    result, actor = redeem(world, b, card.id, world.cashier_b)
    redeeming.undo(result.redemption_id, actor, reason="点错了", undo_window_minutes=30)
    commit()
    place(m, b, member, sku, 1)  # placed on NEXT, never paid
    yield world
    clock.freeze(None)


def count(sql: str, merchant_id: int, store_id: int, day: date) -> float:
    """An independent count: plain SQL over the UTC bounds of the Shanghai day."""
    query = sa.text(sql).bindparams(sa.bindparam("start", type_=UTCDateTime), sa.bindparam("end", type_=UTCDateTime))
    value = db.session.execute(query, {"m": merchant_id, "s": store_id, "start": start_of_day(day),
                                       "end": end_of_day(day)}).scalar()
    return value or 0


SQL = {
    "sales_fen": "SELECT SUM(p.amount_fen) FROM payments p JOIN orders o ON o.id = p.order_id WHERE p.merchant_id = :m"
                 " AND o.store_id = :s AND p.status IN ('paid', 'closed') AND p.paid_at >= :start AND p.paid_at < :end",
    "refunds_fen": "SELECT SUM(r.amount_fen) FROM refunds r JOIN orders o ON o.id = r.order_id WHERE r.merchant_id = :m"
                   " AND o.store_id = :s AND r.status = 'succeeded' AND r.succeeded_at >= :start AND r.succeeded_at < :end",
    "orders": "SELECT COUNT(*) FROM orders WHERE merchant_id = :m AND store_id = :s"
              " AND created_at >= :start AND created_at < :end",
    "pickups": "SELECT COUNT(*) FROM orders WHERE merchant_id = :m AND store_id = :s"
               " AND picked_up_at >= :start AND picked_up_at < :end",
    "redemptions": "SELECT COUNT(*) FROM redemptions WHERE merchant_id = :m AND store_id = :s AND undone_at IS NULL"
                   " AND redeemed_at >= :start AND redeemed_at < :end",
}


def test_figures_equal_independent_sql_counts_on_both_sides_of_midnight(midnight):
    world = midnight
    figures = daily(world.merchant.id, None, [DAY, NEXT])
    for day in (DAY, NEXT):
        for store in (world.store, world.store_b):
            row = figures.cell(day, store.id)
            for name, sql in SQL.items():
                assert getattr(row, name) == count(sql, world.merchant.id, store.id, day), (day, store.name, name)


def test_an_event_at_2359_counts_that_day_and_one_at_0001_the_next(midnight):
    world = midnight
    figures = daily(world.merchant.id, None, [DAY, NEXT])
    a, b = world.store.id, world.store_b.id
    # store A: two orders placed and paid on DAY (5000 + 2500), picked up at 23:59 and at 00:01
    assert (figures.cell(DAY, a).orders, figures.cell(DAY, a).sales_fen, figures.cell(DAY, a).pickups) == (2, 7500, 1)
    assert (figures.cell(NEXT, a).orders, figures.cell(NEXT, a).sales_fen, figures.cell(NEXT, a).pickups) == (0, 0, 1)
    assert figures.cell(DAY, a).redemptions == 2 and figures.cell(NEXT, a).redemptions == 1  # the card's use on DAY
    # waits: 19 minutes (paid 23:40, picked up 23:59) on DAY; 2 minutes (23:59 → 00:01) on NEXT
    assert figures.cell(DAY, a).average_wait_minutes == pytest.approx(19.0)
    assert figures.cell(NEXT, a).average_wait_minutes == pytest.approx(2.0)
    # store B: a pay-at-store order collected on NEXT (7500), an order paid on DAY (2500) refunded on NEXT
    assert (figures.cell(DAY, b).orders, figures.cell(DAY, b).sales_fen, figures.cell(DAY, b).refunds_fen) == (2, 2500, 0)
    row = figures.cell(NEXT, b)
    assert (row.orders, row.sales_fen, row.refunds_fen, row.refunds, row.pickups) == (1, 7500, 2500, 1, 1)
    assert row.redemptions == 2  # the collected order and the card's use; the undone use is not counted
    assert row.average_wait_minutes is None  # paid at the pickup itself: no wait to average
    # totals over the stores
    assert figures.day(DAY).sales_fen == 10000 and figures.day(NEXT).net_fen == 7500 - 2500
    assert figures.series("orders") == [4, 1]


def test_the_second_merchant_and_other_stores_stay_out(midnight):
    world = midnight
    other = daily(world.other_merchant.id, None, [DAY, NEXT])
    assert set(s for _, s in other.cells) == {world.other_store.id}
    assert other.day(DAY).sales_fen == 3800
    mine = daily(world.merchant.id, None, [DAY, NEXT])
    assert world.other_store.id not in {s for _, s in mine.cells}
    only_a = daily(world.merchant.id, [world.store.id], [DAY, NEXT])
    assert {s for _, s in only_a.cells} == {world.store.id}
    # another merchant's store named explicitly still counts nothing of it
    assert daily(world.merchant.id, [world.other_store.id], [DAY, NEXT]).cells == {}


def test_last_days_are_shanghai_days_ending_today():
    assert clock.shanghai_today(at(DAY, 23, 59)) == DAY
    today = clock.shanghai_today(at(NEXT, 0, 1))
    assert today == NEXT
    days = last_days(today)
    assert len(days) == 30 and days[-1] == NEXT and days[0] == NEXT - timedelta(days=29)
