"""What the merchant console does with orders: search, read (lines, payments, refunds, timeline, vouchers)
and refund whole or by line, or ask again for a refund that did not go through. Every query goes through the actor's Scope (owners and operators every store
of the merchant, a store manager their own store's orders: the rules registered here); a refund goes
through `service.refund`, the one rule for refunds, and is recorded in the audit log in its transaction.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from app.core.clock import end_of_day, start_of_day
from app.core.errors import BadRequest
from app.extensions import db
from app.members.models import Member
from app.merchants import audit
from app.merchants.models import Store
from app.merchants.scope import Scope, register
from app.orders import progress, service
from app.orders.models import Order, OrderEvent, OrderLine, OrderStatus, OrderVoucher
from app.payments import service as payments_service
from app.payments.models import Payment, PayMethod, Refund, RefundStatus
from app.vouchers import codes
from app.vouchers.models import Voucher


def _orders_of_store(scope: Scope):
    return sa.select(Order.id).where(Order.store_id == scope.store_id)


register(Order, lambda scope: [Order.store_id == scope.store_id])
register(Payment, lambda scope: [Payment.order_id.in_(_orders_of_store(scope))])
register(Refund, lambda scope: [Refund.order_id.in_(_orders_of_store(scope))])

# Which moment a date range filters on: the dashboard's figures link to the orders behind them by these
# (orders placed by created_at, paid by paid_at, picked up by picked_up_at; "refunded": orders with a refund
# that succeeded in the range, as the dashboard counts refunds, partial ones included).
DATE_COLUMNS = {"created": Order.created_at, "paid": Order.paid_at, "picked_up": Order.picked_up_at,
                "refunded": Refund.succeeded_at}
STATUSES = tuple(s.value for s in OrderStatus)
PAY_METHODS = tuple(m.value for m in PayMethod)


@dataclass(frozen=True)
class OrderFilter:
    q: str = ""                 # order number, member nickname or phone, or a voucher code (any generation)
    store_id: int | None = None
    status: str = ""
    on: str = "created"         # a key of DATE_COLUMNS
    day_from: date | None = None  # Asia/Shanghai days, both included
    day_to: date | None = None
    pay_method: str = ""


def search(scope: Scope, f: OrderFilter) -> sa.Select:
    """(Order, Member, Store) rows `scope` may see, matching `f`."""
    query = (scope.select(Order, Order, Member, Store).join(Member, Member.id == Order.member_id)
             .join(Store, Store.id == Order.store_id))
    text = f.q.strip()
    if text:
        either = [Order.number.contains(text, autoescape=True), Member.nickname.contains(text, autoescape=True)]
        digits = text.replace(" ", "").replace("-", "")
        if digits.isdigit():
            either.append(Member.phone.contains(digits, autoescape=True))
        code = codes.normalise(text)
        if len(code) >= 4 and code == text.upper().replace("-", "").replace(" ", ""):
            either.append(Order.id.in_(sa.select(OrderVoucher.order_id).join(
                Voucher, Voucher.id == OrderVoucher.voucher_id).where(Voucher.code.startswith(code))))
        query = query.where(sa.or_(*either))
    if f.store_id is not None:
        scope.get(Store, f.store_id)  # another merchant's store, or for a manager another store: NotFound
        query = query.where(Order.store_id == f.store_id)
    if f.status in STATUSES:
        query = query.where(Order.status == OrderStatus(f.status))
    if f.pay_method in PAY_METHODS:
        query = query.where(Order.pay_method == PayMethod(f.pay_method))
    column = DATE_COLUMNS.get(f.on, Order.created_at)
    within = []
    if f.day_from is not None:
        within.append(column >= start_of_day(f.day_from))
    if f.day_to is not None:
        within.append(column < end_of_day(f.day_to))
    if within and column is Refund.succeeded_at:
        query = query.where(Order.id.in_(sa.select(Refund.order_id).where(
            Refund.merchant_id == scope.merchant_id, Refund.status == RefundStatus.SUCCEEDED, *within)))
    elif within:
        query = query.where(*within)
    return query


@dataclass
class OrderDetail:
    order: Order
    member: Member
    store: Store
    payments: list[Payment]
    refunds: list[Refund]
    progress: progress.RefundProgress
    headline: str
    timeline: list[tuple[OrderEvent, str]]             # the event and its note, as the order page words it
    vouchers: list[tuple[int, Voucher]] = field(default_factory=list)  # (generation, voucher), newest first
    can_refund: bool = False
    retryable: set[int] = field(default_factory=set)  # refunds a person may ask again for (重试退款)

    @property
    def lines(self) -> list[OrderLine]:
        return self.order.lines


def detail(scope: Scope, order_id: int) -> OrderDetail:
    order = scope.get(Order, order_id)
    refunds = list(db.session.execute(scope.select(Refund).where(Refund.order_id == order.id)
                                      .order_by(Refund.id)).scalars())
    payments = list(db.session.execute(scope.select(Payment).where(Payment.order_id == order.id)
                                       .order_by(Payment.id)).scalars())
    moved = progress.refund_progress(refunds)
    vouchers = db.session.execute(
        sa.select(OrderVoucher.generation, Voucher).join(Voucher, Voucher.id == OrderVoucher.voucher_id)
        .where(OrderVoucher.order_id == order.id).order_by(OrderVoucher.generation.desc())).all()
    return OrderDetail(
        order=order, member=db.session.get(Member, order.member_id), store=db.session.get(Store, order.store_id),
        payments=payments, refunds=refunds, progress=moved, headline=progress.headline(order, moved),
        timeline=[(e, progress.event_note(e, order)) for e in service.timeline(order)],
        vouchers=[(g, v) for g, v in vouchers], can_refund=progress.can_refund(order),
        retryable=_retryable(refunds))


def _retryable(refunds: list[Refund]) -> set[int]:
    """Failed refunds that may be sent again (pending ones are sent again by the sweep, unasked)."""
    stuck = [r for r in refunds if r.status is RefundStatus.FAILED]
    asked = payments_service.retried([r.id for r in stuck])
    return {r.id for r in stuck if payments_service.may_retry(r, retried_already=r.id in asked)}


def retry_refund(scope: Scope, refund_id: int) -> Refund:
    """A person asks again for one of an order's refunds (`payments.retry_refund`, the one rule for every
    kind of order: a pending one now, under its number; one refused for good under a new number, once),
    recorded in the audit log against the order."""
    refund = scope.get(Refund, refund_id)
    sent = payments_service.retry_refund(refund)
    audit.record(scope, "order.refund_retry", "order", refund.order_id, before={"out_refund_no": refund.out_refund_no},
                 after={"out_refund_no": sent.out_refund_no, "amount_fen": sent.amount_fen})
    return sent


def refund(scope: Scope, order_id: int, *, reason: str, quantities: dict[int, int] | None) -> Refund | None:
    """Refunds the order whole (`quantities` None) or by line ({order_line_id: n}) through `service.refund`,
    which refuses what may not be refunded (picked up, not paid, a wrong quantity) with its sentence."""
    order = scope.get(Order, order_id)
    reason = (reason or "").strip()
    if not reason:
        raise BadRequest(field="reason", zh="请填写退款原因。", en="Give a reason for the refund.")
    if quantities is not None:
        quantities = {line_id: n for line_id, n in quantities.items() if n}
        if not quantities:
            raise BadRequest(field="lines", zh="请选择要退款的商品。", en="Choose what to refund.")
    before = {"status": order.status.value, "refunded_fen": order.refunded_fen}
    result = service.refund(order, reason=reason, quantities=quantities)
    db.session.refresh(order)
    after = {"status": order.status.value, "refunded_fen": order.refunded_fen, "reason": reason,
             "lines": {str(k): v for k, v in sorted(quantities.items())} if quantities else "all"}
    audit.record(scope, "order.refund", "order", order.id, before=before, after=after)
    return result
