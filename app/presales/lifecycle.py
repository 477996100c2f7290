"""What happens to a pre-sale order as its money moves and its windows pass: the deposit paid (deadlines
scheduled), the balance paid, the deposit never paid (the unit goes back), the balance window opening
(depositors told, once) and closing unpaid (the campaign's rule: the deposit forfeited or refunded, the unit
back to the campaign's stock).

Called inside the transaction that moved the order (app.orders.signals) or by the deadline tasks. Each
change is a conditional update, so a delayed task and the sweep together do each thing once; a deposit
refund is recorded with its own request number and sent after the commit, with retries
(payments.request_refund)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from app.core import states, tasks
from app.extensions import db
from app.orders import staged
from app.orders.models import Order
from app.presales.models import (
    PRESALE_TRANSITIONS, PresaleCampaign, MissedBalance, PresaleOrder, PresaleOrderStatus,
)


def of_order(order_id: int) -> PresaleOrder | None:
    return db.session.execute(sa.select(PresaleOrder).where(PresaleOrder.order_id == order_id)).scalar_one_or_none()


def _give_back(campaign_id: int, n: int) -> None:
    db.session.execute(sa.update(PresaleCampaign).where(PresaleCampaign.id == campaign_id)
                       .values(stock_left=PresaleCampaign.stock_left + n).execution_options(synchronize_session=False))


def on_deposit_paid(order: Order, *, now: datetime) -> None:
    p = of_order(order.id)
    if p is None or p.status is not PresaleOrderStatus.PLACED \
            or not states.transition(p, PresaleOrderStatus.DEPOSIT_PAID, PRESALE_TRANSITIONS):
        return
    c = db.session.get(PresaleCampaign, p.campaign_id)
    # The rows are the record (the campaign's windows, this order's status and announced_at); these messages
    # are the fast path, and the sweeps in presales.tasks catch any that are lost.
    tasks.schedule("presales.announce_if_due", order.id, eta=max(now, c.balance_starts_at))
    tasks.schedule("presales.settle_if_missed", order.id, eta=c.balance_ends_at)


def on_balance_paid(order: Order, *, now: datetime) -> None:
    p = of_order(order.id)
    if p is not None and p.status is PresaleOrderStatus.DEPOSIT_PAID:
        states.transition(p, PresaleOrderStatus.BALANCE_PAID, PRESALE_TRANSITIONS)


def on_cancelled(order: Order, *, now: datetime) -> None:
    """The deposit was never paid (the order expired or was cancelled): its units go back to the campaign."""
    p = of_order(order.id)
    if p is not None and p.status is PresaleOrderStatus.PLACED \
            and states.transition(p, PresaleOrderStatus.CANCELLED, PRESALE_TRANSITIONS):
        _give_back(p.campaign_id, p.quantity)


def on_refunded(order: Order, *, now: datetime) -> None:
    """A pre-sale refunded in whole after its balance was paid (the store's refund): its units go back to the
    campaign, once (orders send this when the order turns REFUNDED, which happens once)."""
    p = of_order(order.id)
    if p is not None and p.status is PresaleOrderStatus.BALANCE_PAID:
        _give_back(p.campaign_id, p.quantity)


def settle_if_missed(order_id: int, *, now: datetime) -> bool:
    """The balance window has closed and the balance is unpaid: the campaign's rule applies (the deposit
    forfeited, or refunded through the provider), the units go back to the campaign. True when this call did
    it; False before the window's end, after the balance was paid, or when it was done already."""
    p = of_order(order_id)
    if p is None or p.status is not PresaleOrderStatus.DEPOSIT_PAID:
        return False
    c = db.session.get(PresaleCampaign, p.campaign_id)
    if now < c.balance_ends_at:
        return False
    refund = c.missed_balance is MissedBalance.REFUND
    if not states.transition(p, PresaleOrderStatus.MISSED, PRESALE_TRANSITIONS, missed_rule=c.missed_balance):
        return False
    order = db.session.get(Order, order_id)
    reason = "未按时支付尾款，定金原路退回" if refund else "未按时支付尾款，定金不退"
    if not staged.miss_balance(order, refund_deposit=refund, reason=reason, now=now):
        # The order moved first (its balance payment landed): leave it be, and say so by rolling back.
        raise RuntimeError(f"pre-sale order {order_id} moved while its balance was settled")
    _give_back(c.id, p.quantity)
    return True


def due_missed(now: datetime, limit: int = 200) -> list[int]:
    return list(db.session.execute(
        sa.select(PresaleOrder.order_id).join(PresaleCampaign, PresaleCampaign.id == PresaleOrder.campaign_id)
        .where(PresaleOrder.status == PresaleOrderStatus.DEPOSIT_PAID, PresaleCampaign.balance_ends_at <= now)
        .order_by(PresaleOrder.order_id).limit(limit)).scalars())


def claim_announcement(order_id: int, *, now: datetime) -> bool:
    """Marks the order told that its balance window is open; True once (the caller then sends the message)."""
    p = of_order(order_id)
    if p is None or p.status is not PresaleOrderStatus.DEPOSIT_PAID:
        return False
    c = db.session.get(PresaleCampaign, p.campaign_id)
    if not (c.balance_starts_at <= now < c.balance_ends_at):
        return False
    return db.session.execute(
        sa.update(PresaleOrder).where(PresaleOrder.order_id == order_id, PresaleOrder.announced_at.is_(None),
                                      PresaleOrder.status == PresaleOrderStatus.DEPOSIT_PAID)
        .values(announced_at=now).execution_options(synchronize_session=False)).rowcount == 1


def due_announcements(now: datetime, limit: int = 200) -> list[int]:
    return list(db.session.execute(
        sa.select(PresaleOrder.order_id).join(PresaleCampaign, PresaleCampaign.id == PresaleOrder.campaign_id)
        .where(PresaleOrder.status == PresaleOrderStatus.DEPOSIT_PAID, PresaleOrder.announced_at.is_(None),
               PresaleCampaign.balance_starts_at <= now, PresaleCampaign.balance_ends_at > now)
        .order_by(PresaleOrder.order_id).limit(limit)).scalars())
