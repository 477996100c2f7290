"""Group-buys listen to orders, inside the transaction that moved the order: a seat's order paid → the
seat is paid (the team opens or completes); cancelled unpaid → the seat is free again."""
from __future__ import annotations

from app.groupbuys import lifecycle
from app.orders import signals as order_signals


def _held(order, *, now, **_):
    lifecycle.on_held(order, now=now)


def _cancelled(order, *, now, **_):
    lifecycle.on_cancelled(order, now=now)


def connect() -> None:
    order_signals.held.connect(_held)
    order_signals.cancelled.connect(_cancelled)
