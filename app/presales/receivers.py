"""Pre-sales listen to orders, inside the transaction that moved the order: the deposit paid (deadlines
scheduled), the balance paid, the deposit never paid, or the order refunded after its balance (the units go back to the campaign)."""
from __future__ import annotations

from app.orders import signals as order_signals
from app.presales import lifecycle, service


def _deposit_paid(order, *, now, **_):
    lifecycle.on_deposit_paid(order, now=now)


def _balance_paid(order, *, now, **_):
    lifecycle.on_balance_paid(order, now=now)


def _cancelled(order, *, now, **_):
    lifecycle.on_cancelled(order, now=now)


def _refunded(order, *, now, **_):
    lifecycle.on_refunded(order, now=now)


def connect() -> None:
    order_signals.deposit_paid.connect(_deposit_paid)
    order_signals.balance_paid.connect(_balance_paid)
    order_signals.cancelled.connect(_cancelled)
    order_signals.refunded.connect(_refunded)
    service.register_with_orders()
