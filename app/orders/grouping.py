"""Group-buy orders (kind GROUPBUY): paid, an order waits in GROUPING, without a voucher, for its team.
Group-buys decide what happens next and call these, inside their own transaction: the team is complete
(every member's order ready, each with its own pickup voucher), or a member's money goes back (they left,
or the team failed). Orders never import group-buys; they tell them through `app.orders.signals`."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from app.core.clock import now_utc
from app.extensions import db
from app.orders.models import Order, OrderEventKind, OrderLine, OrderStatus
from app.orders.service import _issue_pickup_voucher, _record_refund, _return_stock, _state_error, _transition


def release(order: Order, *, now: datetime | None = None) -> bool:
    """The order's team is complete: it waits for pickup with its own voucher. True when this call did it
    (once: a conditional update from GROUPING)."""
    now = now or now_utc()
    if _transition(order, OrderStatus.READY, OrderEventKind.GROUPED, ready_at=now,
                   where=[Order.status == OrderStatus.GROUPING]):
        _issue_pickup_voucher(order, now)
        return True
    return False


def refund(order: Order, *, reason: str, now: datetime | None = None):
    """Refunds the whole of a group-buy order still waiting for its team. The status moves first (from
    GROUPING only), so a team completing at the same moment and this refund cannot both have the order.
    The refund is recorded here with its own request number and sent after the commit, with retries
    (payments.request_refund). Returns the Refund (None for a ¥0 order)."""
    now = now or now_utc()
    if not _transition(order, OrderStatus.REFUNDED, OrderEventKind.REFUNDED, note=reason, refunded_at=now,
                       where=[Order.status == OrderStatus.GROUPING]):
        raise _state_error(order, "退款", "refund")
    lines = list(db.session.execute(sa.select(OrderLine).where(OrderLine.order_id == order.id)).scalars())
    _return_stock(order, {l.sku_id: l.open_quantity for l in lines})
    db.session.execute(sa.update(OrderLine).where(OrderLine.order_id == order.id)
                       .values(refunded_quantity=OrderLine.quantity).execution_options(synchronize_session=False))
    amount = order.total_fen - order.refunded_fen
    db.session.execute(sa.update(Order).where(Order.id == order.id).values(refunded_fen=Order.total_fen)
                       .execution_options(synchronize_session=False))
    db.session.expire(order)
    for line in lines:
        db.session.expire(line)
    return _record_refund(order, amount, reason) if amount > 0 else None
