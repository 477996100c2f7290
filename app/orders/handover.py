"""What an order does when its money or its pickup voucher moves: paid (in one payment or several), the
voucher redeemed at the counter (picked up; a pay-at-store order collected), the redemption undone. Called
by the receivers of payments' and vouchers' signals, inside the transaction that moved them."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from app.core import logging as applog
from app.core.clock import now_utc
from app.core.errors import BadRequest
from app.extensions import db
from app.members import service as members
from app.merchants.models import Merchant
from app.orders import signals, staged
from app.orders.errors import PickupVoucherClosed, PickupVoucherReplaced
from app.orders import signals
from app.orders.models import Order, OrderEventKind, OrderKind, OrderStatus, OrderVoucher
from app.orders.service import _issue_pickup_voucher, _transition
from app.payments import service as payments
from app.payments.models import Payment, PayMethod
from app.vouchers.models import Voucher, VoucherSource

def _unpaid(order: Order) -> int:
    """The order's total less its refunds and what its payments brought and keep (a payment the order could
    not take is sent back whole, and counts for nothing): below 0 when they brought too much."""
    return order.total_fen - order.refunded_fen - payments.kept_fen(order.id)


def amount_due(order: Order) -> int:
    """What is still to pay online: the order's total less refunds and what its payments already brought
    (an order may be paid in parts: a pre-sale's deposit, then its balance)."""
    return max(0, _unpaid(order))


def amount_due_now(order: Order) -> int:
    """What the pay page asks for now: a two-part order's deposit first, then the rest."""
    if order.status is OrderStatus.PENDING_PAYMENT and order.deposit_fen is not None:
        return order.deposit_fen
    return amount_due(order)


def open_payment(order: Order) -> Payment:
    """The payment the order's pay page uses for what is due now (a pre-sale's balance only in its window)."""
    if order.status is OrderStatus.DEPOSIT_PAID:
        staged.check_may_pay_balance(order, now_utc())
    elif order.status is not OrderStatus.PENDING_PAYMENT or order.pay_method is PayMethod.STORE:
        raise BadRequest(field="order", zh="订单无需支付。", en="This order needs no payment.")
    return payments.open_payment(merchant_id=order.merchant_id, order_id=order.id, provider=order.pay_method,
                                 amount_fen=amount_due_now(order))


def on_paid(order: Order, payment: Payment, *, now: datetime) -> bool:
    """A payment for `order` succeeded. True when it is accounted for: the order became ready now (or is
    still waiting for another part). False when the order can no longer take it (cancelled meanwhile, or
    paid twice): the caller refunds it."""
    if order.status is OrderStatus.DEPOSIT_PAID:
        return _on_balance_paid(order, payment, now=now)
    if order.status is not OrderStatus.PENDING_PAYMENT:
        return False
    if amount_due(order) > 0 and order.deposit_fen is not None:
        # A part (a pre-sale's deposit): the order waits for the balance, with no unpaid-order deadline (the
        # balance window's end is pre-sales' deadline).
        if not _transition(order, OrderStatus.DEPOSIT_PAID, OrderEventKind.DEPOSIT_PAID, expires_at=None,
                           where=[Order.status == OrderStatus.PENDING_PAYMENT]):
            return False
        _earn_points(order, payment.amount_fen, ref=f"payment:{payment.id}:earn")
        signals.deposit_paid.send(order, now=now)
        return True
    if amount_due(order) > 0:
        accepted = True  # a part of an order paid in several: it waits for the rest
    elif order.kind is OrderKind.GROUPBUY:
        # A group-buy seat: no voucher until the team is complete. Group-buys hear of it in this transaction
        # (and may send the money back at once when the team is gone).
        if not _transition(order, OrderStatus.GROUPING, OrderEventKind.PAID, paid_at=now, expires_at=None):
            return False
        _earn_points(order, payment.amount_fen, ref=f"payment:{payment.id}:earn")
        signals.held.send(order, now=now)
        return True
    elif _transition(order, OrderStatus.READY, OrderEventKind.PAID, ready_at=now, paid_at=now, expires_at=None):
        _issue_pickup_voucher(order, now)
        accepted = True
    else:
        return False  # another worker settled the order first: this payment goes back, and earns nothing
    _earn_points(order, payment.amount_fen, ref=f"payment:{payment.id}:earn")
    return accepted


def _on_balance_paid(order: Order, payment: Payment, *, now: datetime) -> bool:
    """A two-part order's balance paid: ready, with a pickup voucher valid from its hand-over date."""
    if _unpaid(order) != 0:
        # Not exactly the balance: a payment opened before a coupon took part of it, paid at the provider
        # all the same. It goes back whole, and the order waits for the right amount (never overpaid).
        return False
    if not staged.complete_balance(order, now=now):
        return False  # the balance window was closed meanwhile: this payment goes back
    _earn_points(order, payment.amount_fen, ref=f"payment:{payment.id}:earn")
    return True


def on_payment_paid(payment: Payment, *, now: datetime) -> None:
    """payments.signals.paid: the order takes the money, or every fen of it goes back."""
    if payment.provider is PayMethod.STORE:
        return  # a collection at the counter is recorded by the order itself (on_picked_up)
    order = db.session.get(Order, payment.order_id)
    if not on_paid(order, payment, now=now):
        applog.event("payment for a closed order refunded", level=30, order_id=order.id,
                     out_trade_no=payment.out_trade_no)
        payments.request_refund(merchant_id=order.merchant_id, order_id=order.id, amount_fen=payment.amount_fen,
                                reason="订单已取消，自动退款", payment=payment)


def _earn_points(order: Order, paid_fen: int, *, ref: str) -> None:
    merchant = db.session.get(Merchant, order.merchant_id)
    points = paid_fen // merchant.fen_per_point
    if points > 0:
        members.change_points(order.member_id, points, reason=f"订单 {order.number} 消费", ref=ref)


def order_for_voucher(voucher: Voucher) -> Order | None:
    """The order a voucher hands over (any of its generations), by the typed link. Only vouchers issued for
    orders have one: others (API, coupons) are answered without a query, on the counter's hot path."""
    if voucher.source is not VoucherSource.ORDER:
        return None
    return db.session.execute(sa.select(Order).join(OrderVoucher, OrderVoucher.order_id == Order.id)
                              .where(OrderVoucher.voucher_id == voucher.id)).scalar_one_or_none()


def on_voucher_reissued(old: Voucher, new: Voucher) -> None:
    """An order's pickup voucher was reissued (lost, or revoked by mistake): the order hands over with the new
    one, a generation of its own in order_vouchers (the old voucher keeps its row: its history still names
    the order). Refused (the reissue is rolled back with it) unless the order still waits for the hand-over
    and `old` is its current voucher: a refunded or cancelled order, or an older generation, gets none."""
    order = order_for_voucher(old)
    if order is None:
        return
    if order.status is not OrderStatus.READY:
        raise PickupVoucherClosed(number=order.number, status=order.status.value, status_label=order.status_label)
    if order.voucher_id != old.id:
        raise PickupVoucherReplaced(number=order.number)
    generation = 1 + (db.session.execute(sa.select(sa.func.max(OrderVoucher.generation)).where(
        OrderVoucher.order_id == order.id)).scalar() or 0)
    db.session.add(OrderVoucher(voucher_id=new.id, order_id=order.id, generation=generation))
    order.voucher_id = new.id
    db.session.flush()


def on_picked_up(voucher: Voucher, *, now: datetime) -> None:
    order = order_for_voucher(voucher)
    if order is None or order.voucher_id != voucher.id:
        return
    if _transition(order, OrderStatus.PICKED_UP, OrderEventKind.PICKED_UP, picked_up_at=now):
        if order.pay_method is PayMethod.STORE and order.paid_at is None:
            payment = payments.record_collection(merchant_id=order.merchant_id, order_id=order.id,
                                                 amount_fen=order.total_fen - order.refunded_fen, now=now)
            db.session.execute(sa.update(Order).where(Order.id == order.id, Order.paid_at.is_(None))
                               .values(paid_at=now).execution_options(synchronize_session=False))
            db.session.expire(order)
            _earn_points(order, payment.amount_fen, ref=f"payment:{payment.id}:earn")


def on_pickup_undone(voucher: Voucher, *, now: datetime) -> None:
    order = order_for_voucher(voucher)
    if order is None or order.voucher_id != voucher.id:
        return
    if not _transition(order, OrderStatus.READY, OrderEventKind.PICKUP_UNDONE, picked_up_at=None):
        return
    if order.pay_method is PayMethod.STORE:
        # The counter took the money with the pickup; undoing the pickup hands it back at the counter.
        payment = payments.return_collection(order_id=order.id, now=now)
        if payment is not None:
            db.session.execute(sa.update(Order).where(Order.id == order.id).values(paid_at=None)
                               .execution_options(synchronize_session=False))
            db.session.expire(order)
            merchant = db.session.get(Merchant, order.merchant_id)
            points = payment.amount_fen // merchant.fen_per_point
            if points:
                members.change_points(order.member_id, -points, reason=f"订单 {order.number} 撤销核销",
                                      ref=f"payment:{payment.id}:undo")


def counter_info(voucher: Voucher) -> dict | None:
    """What the counter shows beside an order's voucher: the order, and the amount to collect."""
    order = order_for_voucher(voucher)
    if order is None:
        return None
    due = order.total_fen - order.refunded_fen if order.pay_method is PayMethod.STORE and order.paid_at is None else 0
    return {"id": order.id, "number": order.number, "status": order.status.value, "pay_method": order.pay_method.value,
            "amount_due_fen": due, "total_fen": order.total_fen, "member": members.name_of(order.member_id) or "",
            "fulfilment": order.fulfilment.value, "delivery_address": order.delivery_address,
            "delivery_phone": order.delivery_phone}
