"""An order may carry more than one payment (a pre-sale's deposit, then its balance): nothing assumes one
payment of the order's total. Payments know nothing of orders; orders hear `payments.signals.paid`."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.core.database import commit
from app.extensions import db
from app.orders import handover
from app.orders import service as orders
from app.orders.models import OrderStatus
from app.payments import service as payments
from app.payments.models import PaymentStatus, PayMethod, Refund, RefundStatus
from tests.support.factories import make_member, make_product


@pytest.fixture
def order(world):
    product = make_product(world.merchant, "蛋糕", (("整只", 20000, None),), stock={world.store: 3})
    member = make_member(world.merchant)
    order = orders.place_order(world.merchant, world.store, member, [orders.LineRequest(product.skus[0].id, 1)],
                               pay_method=PayMethod.SANDBOX)
    commit()
    return order


def _pay(order, amount_fen):
    payment = payments.open_payment(merchant_id=order.merchant_id, order_id=order.id, provider=PayMethod.SANDBOX,
                                    amount_fen=amount_fen)
    payments.apply_payment_result(payments.PaymentResult(payment.out_trade_no, True, amount_fen, f"T{payment.id}"))
    commit()
    db.session.refresh(order)
    return payment


def test_an_order_paid_in_two_parts_is_ready_after_the_second(order):
    deposit = _pay(order, 5000)
    assert order.status is OrderStatus.PENDING_PAYMENT and order.voucher_id is None
    assert handover.amount_due(order) == 15000
    assert handover.open_payment(order).amount_fen == 15000  # the pay page asks for the balance
    _pay(order, 15000)
    assert order.status is OrderStatus.READY and order.voucher_id is not None
    assert deposit.status is PaymentStatus.PAID and handover.amount_due(order) == 0


def test_a_refund_is_split_over_the_payments_latest_first(order):
    first = _pay(order, 5000)
    second = _pay(order, 15000)
    orders.refund(order, reason="不要了")
    commit()
    rows = db.session.execute(sa.select(Refund).where(Refund.order_id == order.id).order_by(Refund.id)).scalars().all()
    assert [(r.payment_id, r.amount_fen) for r in rows] == [(second.id, 15000), (first.id, 5000)]
    assert all(r.status is RefundStatus.SUCCEEDED for r in rows)  # the queue (inline in tests) sent each


def test_a_payment_after_the_order_was_cancelled_goes_back(order):
    payment = handover.open_payment(order)
    commit()
    orders.cancel(order, reason="顾客取消")
    commit()
    payments.apply_payment_result(payments.PaymentResult(payment.out_trade_no, True, payment.amount_fen, "LATE"))
    commit()
    refunds = payments.refunds_of(order.id)
    assert [(r.payment_id, r.amount_fen, r.status) for r in refunds] == \
        [(payment.id, payment.amount_fen, RefundStatus.SUCCEEDED)]
    assert db.session.get(type(order), order.id).status is OrderStatus.CANCELLED
