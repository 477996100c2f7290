"""A partial refund returns the refunded units' exact share of the line's payable, so refunding every unit
in several steps returns exactly what the line cost; orders keep what the quote applied per line."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.core.database import commit
from app.core.errors import BadRequest
from app.extensions import db
from app.orders import service as orders
from app.orders.models import Order, OrderLine, OrderLineAdjustment
from app.pricing import AdjustmentKind
from tests.orders.test_orders import pay, place, shop  # noqa: F401 (fixture)


def test_an_order_stores_its_payables_and_what_the_member_price_took_off(shop):
    world, product, member = shop
    medium, large = product.skus
    order = place(world, member, [(medium, 3), (large, 1)])
    lines = {l.sku_id: l for l in order.lines}
    assert (lines[medium.id].payable_fen, lines[large.id].payable_fen) == (7500, 3200)
    assert [(a.kind, a.source, a.amount_fen) for a in lines[medium.id].adjustments] == [
        (AdjustmentKind.MEMBER_PRICE, "member_price", 900)]
    assert lines[large.id].adjustments == []  # no member price: nothing applied
    assert order.total_fen == sum(l.payable_fen for l in order.lines) == 10700
    assert order.list_total_fen == sum(l.list_total_fen for l in order.lines) == 11600
    assert order.discounts_by_kind == [(AdjustmentKind.MEMBER_PRICE, 900)]


def _with_an_uneven_payable(order: Order, payable_fen: int) -> None:
    """What a coupon will do: take part of a line's payable off, so it no longer divides by the quantity."""
    line = order.lines[0]
    off = line.payable_fen - payable_fen
    db.session.add(OrderLineAdjustment(order_line_id=line.id, kind=AdjustmentKind.COUPON, source="coupon:1",
                                       amount_fen=off))
    line.payable_fen = payable_fen
    order.total_fen -= off
    commit()


@pytest.mark.parametrize("steps", [(1, 2), (2, 1), (1, 1, 1)])
def test_refunding_a_line_in_steps_returns_exactly_its_payable(shop, steps):
    world, product, member = shop
    order = place(world, member, [(product.skus[0], 3)])
    _with_an_uneven_payable(order, 7001)  # 3 × 25.00 less a 4.99 coupon share
    pay(order)
    db.session.refresh(order)
    line_id = order.lines[0].id
    refunds = []
    for k in steps:
        refunds.append(orders.refund(order, reason="少要", quantities={line_id: k}).amount_fen)
        commit()
        db.session.refresh(order)
    assert sum(refunds) == 7001 == order.refunded_fen == order.total_fen
    expected = {(1, 2): [2333, 4668], (2, 1): [4667, 2334], (1, 1, 1): [2333, 2334, 2334]}[steps]
    assert refunds == expected
    assert order.status.value == "refunded"


def test_refund_one_of_three_then_the_rest_at_the_member_price(shop):
    world, product, member = shop
    order = place(world, member, [(product.skus[0], 3)])
    pay(order)
    db.session.refresh(order)
    line_id = order.lines[0].id
    first = orders.refund(order, reason="少要一杯", quantities={line_id: 1})
    commit()
    db.session.refresh(order)
    assert first.amount_fen == 2500 and order.status.value == "ready"
    rest = orders.refund(order, reason="不要了")  # the whole order: what is left of it
    commit()
    db.session.refresh(order)
    assert rest.amount_fen == 5000 and order.refunded_fen == order.total_fen == 7500


def test_a_refund_counted_on_a_stale_line_is_refused_not_mispriced(shop):
    world, product, member = shop
    order = place(world, member, [(product.skus[0], 3)])
    pay(order)
    db.session.refresh(order)
    line = order.lines[0]
    assert line.refunded_quantity == 0
    # Another request refunds one unit meanwhile (a Core update: this session's line still says 0).
    db.session.execute(sa.update(OrderLine).where(OrderLine.id == line.id).values(refunded_quantity=1)
                       .execution_options(synchronize_session=False))
    with pytest.raises(BadRequest):
        orders.refund(order, reason="少要", quantities={line.id: 1})
