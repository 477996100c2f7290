"""How far an order has come, as every page says it: one status, one label, everywhere (the order page,
the Me list, the status poll).

A refund is recorded with the order change and the money moves afterwards (a task), so for a while an
order is refunded but the money is not back: it reads 退款处理中 until every refund is through (退款失败
when one was refused), then 已退款.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import sqlalchemy as sa

from app.extensions import db
from app.orders.models import Order, OrderEvent, OrderEventKind, OrderKind, OrderStatus, status_label_for
from app.payments.models import PayMethod, Refund, RefundStatus

# What each kind of event adds after the status in the order's history; None: the event's own note (a
# person's reason). Delivery orders word two of them as a delivery.
EVENT_NOTES = {
    OrderEventKind.PAID: "已支付",
    OrderEventKind.PAY_AT_STORE: "到店支付",
    OrderEventKind.PICKED_UP: "门店核销",
    OrderEventKind.PICKUP_UNDONE: "撤销核销",
    OrderEventKind.GROUPED: "拼团成功",
    OrderEventKind.DEPOSIT_PAID: "已付定金",
}
DELIVERY_EVENT_NOTES = {**EVENT_NOTES, OrderEventKind.PAY_AT_STORE: "货到付款", OrderEventKind.PICKED_UP: "送达核销"}


@dataclass(frozen=True)
class RefundProgress:
    pending_fen: int = 0    # recorded, or accepted by the provider: not back with the customer yet
    succeeded_fen: int = 0
    failed_fen: int = 0     # refused for good: a person at the store has to sort it out


def refund_progress(refunds: Iterable[Refund]) -> RefundProgress:
    pending = succeeded = failed = 0
    for r in refunds:
        if r.status in (RefundStatus.PENDING, RefundStatus.PROCESSING):
            pending += r.amount_fen
        elif r.status is RefundStatus.SUCCEEDED:
            succeeded += r.amount_fen
        else:
            failed += r.amount_fen
    return RefundProgress(pending, succeeded, failed)


def headline(order: Order, progress: RefundProgress) -> str:
    """The order's status as a shopper reads it (Chinese; pages translate it)."""
    if order.status is OrderStatus.REFUNDED:
        if progress.pending_fen:
            return "退款处理中"
        if progress.failed_fen:
            return "退款失败"
    return order.status_label


def progress_of(orders: list[Order]) -> dict[int, RefundProgress]:
    """Refund progress of several orders in one query (the Me list)."""
    by_order: dict[int, list[Refund]] = {o.id: [] for o in orders}
    if by_order:
        for r in db.session.execute(sa.select(Refund).where(Refund.order_id.in_(list(by_order)))).scalars():
            by_order[r.order_id].append(r)
    return {oid: refund_progress(rs) for oid, rs in by_order.items()}


def still_moving(order: Order, progress: RefundProgress) -> bool:
    """Whether the order page should keep asking for the status: waiting for payment or for the hand-over
    (the counter may redeem the voucher any moment), or a refund still on its way."""
    return order.status in (OrderStatus.PENDING_PAYMENT, OrderStatus.GROUPING, OrderStatus.READY) \
        or progress.pending_fen > 0


def unpaid_at_store(order: Order) -> bool:
    return order.pay_method is PayMethod.STORE and order.paid_at is None


def can_pay(order: Order) -> bool:
    return order.status is OrderStatus.PENDING_PAYMENT and order.pay_method is not PayMethod.STORE


def can_cancel(order: Order) -> bool:
    """Unpaid: waiting for an online payment, or a pay-at-store order not yet collected."""
    return order.status is OrderStatus.PENDING_PAYMENT or (order.status is OrderStatus.READY and unpaid_at_store(order))


def can_refund(order: Order) -> bool:
    """Paid and not yet handed over (refunds and redemptions exclude each other)."""
    return order.status is OrderStatus.READY and order.paid_at is not None


def shopper_can_refund(order: Order) -> bool:
    """What the shop offers: a pre-sale is refunded by the store (its deposit may be non-refundable)."""
    return can_refund(order) and not order.is_presale


def event_note(event: OrderEvent, order: Order) -> str:
    notes = DELIVERY_EVENT_NOTES if order.is_delivery else EVENT_NOTES
    return notes.get(event.kind) or event.note


def steps(order: Order, progress: RefundProgress) -> list[dict]:
    """The progress line: done steps with their time, then what is still to come."""
    flow = [("下单", order.created_at)]
    if order.pay_method is not PayMethod.STORE:
        flow.append(("已支付", order.paid_at))
    if order.kind is OrderKind.GROUPBUY:
        flow.append(("拼团成功", order.ready_at))  # a group-buy order is ready when its team is complete
    flow += [(status_label_for(OrderStatus.READY, order.fulfilment), order.ready_at),
             (status_label_for(OrderStatus.PICKED_UP, order.fulfilment), order.picked_up_at)]
    if order.status is OrderStatus.COMPLETED:
        flow.append(("已完成", order.completed_at))
    end = None
    if order.status is OrderStatus.CANCELLED:
        end = ("已取消", order.cancelled_at)
    elif order.status is OrderStatus.REFUNDED:
        end = (headline(order, progress), order.refunded_at)
    out = []
    for label, at in flow:
        if end and at is None:
            break
        out.append({"label": label, "at": at, "done": at is not None})
    if end:
        out.append({"label": end[0], "at": end[1], "done": True, "end": True})
    current = max((i for i, s in enumerate(out) if s["done"]), default=0)
    for i, s in enumerate(out):
        s["current"] = i == current
    return out
