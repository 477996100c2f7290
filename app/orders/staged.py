"""Orders paid in two parts (a pre-sale): the deposit (定金) when ordering, the balance (尾款) later.

The order is placed for the whole price less the deposit's bonus (定金膨胀: a ¥50 deposit counting as ¥100
is a ¥50 PRESALE_DEPOSIT adjustment on the line), with `deposit_fen` as what is due first. Paid, it waits
in DEPOSIT_PAID (no voucher, no unpaid-order deadline); the balance paid makes it READY with a pickup
voucher valid from `hand_over_from`. A missed balance refunds the deposit (REFUNDED) or keeps it
(CANCELLED). The store's stock is not touched: a pre-sale's units are its campaign's stock.

Orders never import pre-sales: pre-sales register the two rules orders must ask (`register`) and listen to
`app.orders.signals`.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable

import sqlalchemy as sa

from app.core import tasks
from app.core.clock import now_utc
from app.core.errors import BadRequest, NotFound
from app.extensions import db
from app.members import service as members
from app.members.models import Member
from app.merchants.models import Merchant, Store
from app.orders.models import (
    Fulfilment, Order, OrderEvent, OrderEventKind, OrderLine, OrderLineAdjustment, OrderStatus,
)
from app.coupons import checkout as coupons
from app.orders import signals
from app.orders.service import _issue_pickup_voucher, _number, _state_error, _transition
from app.payments import service as payments
from app.payments.models import PayMethod
from app.pricing import AdjustmentKind

# Registered by the domain that sells two-part orders (pre-sales): may the balance be paid now (raises a
# DomainError saying why not), and from when the pickup voucher is valid once it is paid.
_may_pay_balance: Callable[[Order, datetime], None] | None = None
_hand_over_from: Callable[[Order, datetime], datetime | None] | None = None


def register(*, may_pay_balance: Callable[[Order, datetime], None],
             hand_over_from: Callable[[Order, datetime], datetime | None]) -> None:
    global _may_pay_balance, _hand_over_from
    _may_pay_balance, _hand_over_from = may_pay_balance, hand_over_from


def check_may_pay_balance(order: Order, now: datetime) -> None:
    if _may_pay_balance is not None:
        _may_pay_balance(order, now)


def hand_over_from(order: Order, paid_at: datetime) -> datetime | None:
    return _hand_over_from(order, paid_at) if _hand_over_from is not None else None


def place(merchant: Merchant, store: Store, member: Member, sku, *, quantity: int, full_price_fen: int,
          deposit_fen: int, deposit_value_fen: int, source: str, pay_method: PayMethod) -> Order:
    """A two-part order for `quantity` units of `sku` at `full_price_fen` each: `deposit_fen` each now, counting
    as `deposit_value_fen` toward the price. The caller has reserved the units (the campaign's stock)."""
    now = now_utc()
    if store.merchant_id != merchant.id or member.merchant_id != merchant.id or not store.active:
        raise NotFound()
    bonus = (deposit_value_fen - deposit_fen) * quantity
    line = OrderLine(product_id=sku.product_id, sku_id=sku.id, product_name=sku.product.name, sku_name=sku.name,
                     quantity=quantity, unit_price_fen=full_price_fen, list_price_fen=full_price_fen,
                     payable_fen=full_price_fen * quantity - bonus,
                     adjustments=[OrderLineAdjustment(kind=AdjustmentKind.PRESALE_DEPOSIT, source=source,
                                                      amount_fen=bonus)] if bonus else [])
    order = Order(number=_number(now), merchant_id=merchant.id, store_id=store.id, member_id=member.id,
                  status=OrderStatus.PENDING_PAYMENT, fulfilment=Fulfilment.PICKUP, pay_method=pay_method,
                  total_fen=line.payable_fen, list_total_fen=full_price_fen * quantity,
                  deposit_fen=deposit_fen * quantity, created_at=now,
                  expires_at=now + timedelta(minutes=merchant.unpaid_cancel_minutes))
    order.lines = [line]
    db.session.add(order)
    db.session.flush()
    db.session.add(OrderEvent(order_id=order.id, kind=OrderEventKind.PLACED, status_before=None,
                              status_after=order.status.value, created_at=now))
    # An unpaid deposit is cancelled like any unpaid order (the sweep in orders.tasks catches lost messages).
    tasks.schedule("orders.cancel_if_expired", order.id, eta=order.expires_at)
    return order


def complete_balance(order: Order, *, now: datetime) -> bool:
    """Nothing is left to pay (the balance paid, or a coupon covered it): ready, with a pickup voucher valid
    from the hand-over date pre-sales give. True when this call did it (once: conditional on DEPOSIT_PAID)."""
    if not _transition(order, OrderStatus.READY, OrderEventKind.PAID, ready_at=now, paid_at=now,
                       hand_over_from=hand_over_from(order, now), where=[Order.status == OrderStatus.DEPOSIT_PAID]):
        return False
    _issue_pickup_voucher(order, now)
    signals.balance_paid.send(order, now=now)
    return True


def coupon_on_balance(order: Order, *, coupon_id: int, source: str, amount_fen: int, now: datetime) -> None:
    """Takes a coupon's `amount_fen` off the balance of an order waiting for it (one coupon per order): the
    line's payable and the order's total go down by a conditional update (two taps apply it once), the coupon
    is spent in this transaction, and an open balance payment for the old amount is closed. A coupon that
    covers the whole balance completes the order at once."""
    refuse_unless_deposit_paid(order)
    if any(a.kind is AdjustmentKind.COUPON for line in order.lines for a in line.adjustments):
        raise BadRequest(field="coupon", zh="尾款已使用过优惠券。", en="A coupon was already used on the balance.")
    due = order.total_fen - order.deposit_fen
    if not 0 < amount_fen <= due:
        raise BadRequest(field="coupon", zh="优惠券不适用于尾款。", en="The coupon does not apply to the balance.")
    line = order.lines[0]
    moved = db.session.execute(
        sa.update(Order).where(Order.id == order.id, Order.status == OrderStatus.DEPOSIT_PAID,
                               Order.total_fen == order.total_fen)
        .values(total_fen=Order.total_fen - amount_fen).execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        raise BadRequest(field="coupon", zh="订单已变化，请刷新后重试。", en="The order changed; reload and try again.")
    db.session.execute(sa.update(OrderLine).where(OrderLine.id == line.id)
                       .values(payable_fen=OrderLine.payable_fen - amount_fen)
                       .execution_options(synchronize_session=False))
    db.session.add(OrderLineAdjustment(order_line_id=line.id, kind=AdjustmentKind.COUPON, source=source,
                                       amount_fen=amount_fen))
    coupons.use(coupon_id, order.id, order.number, now=now)
    payments.close_open_payments(order.id)
    db.session.flush()
    db.session.expire(order)
    db.session.expire(line)
    if order.total_fen == order.deposit_fen:
        complete_balance(order, now=now)


def miss_balance(order: Order, *, refund_deposit: bool, reason: str, now: datetime | None = None) -> bool:
    """The balance window closed unpaid: the deposit goes back (REFUNDED; recorded here with its own request
    number, sent after the commit with retries) or is kept (CANCELLED). True when this call did it (once: a
    conditional update from DEPOSIT_PAID). Open payments of the balance are closed."""
    now = now or now_utc()
    if order.status is not OrderStatus.DEPOSIT_PAID:
        return False
    where = [Order.status == OrderStatus.DEPOSIT_PAID]
    if refund_deposit:
        if not _transition(order, OrderStatus.REFUNDED, OrderEventKind.REFUNDED, note=reason, refunded_at=now,
                           where=where):
            return False
        paid = sum(p.amount_fen for p in payments.paid_payments(order.id))
        db.session.execute(sa.update(OrderLine).where(OrderLine.order_id == order.id)
                           .values(refunded_quantity=OrderLine.quantity).execution_options(synchronize_session=False))
        db.session.execute(sa.update(Order).where(Order.id == order.id).values(refunded_fen=paid)
                           .execution_options(synchronize_session=False))
        db.session.expire(order)
        payments.close_open_payments(order.id)
        coupons.give_back(order.id, order.number, now=now)
        if paid:
            rows = payments.request_refund(merchant_id=order.merchant_id, order_id=order.id, amount_fen=paid,
                                           reason=reason)
            points = paid // db.session.get(Merchant, order.merchant_id).fen_per_point
            if points:
                members.change_points(order.member_id, -points, reason=f"订单 {order.number} 退款",
                                      ref=f"refund:{rows[0].out_refund_no}")
        return True
    if not _transition(order, OrderStatus.CANCELLED, OrderEventKind.CANCELLED, note=reason, cancelled_at=now,
                       cancel_reason=reason[:255], where=where):
        return False
    payments.close_open_payments(order.id)
    coupons.give_back(order.id, order.number, now=now)
    return True


def refuse_unless_deposit_paid(order: Order) -> None:
    if order.status is not OrderStatus.DEPOSIT_PAID:
        raise _state_error(order, "支付尾款", "pay the balance")
