"""Orders listen to the domains beneath them, inside the transaction that changed those:
a pickup voucher redeemed at the counter → picked up; its redemption undone → ready again;
a pickup voucher reissued → the order hands over with the new one;
a payment succeeded → the order is paid (or, when it can no longer be, the money goes back)."""
from __future__ import annotations

from app.orders import handover
from app.payments import signals as payment_signals
from app.vouchers import signals as voucher_signals


def _redeemed(voucher, *, now, **_):
    handover.on_picked_up(voucher, now=now)


def _undone(voucher, *, now, **_):
    handover.on_pickup_undone(voucher, now=now)


def _reissued(voucher, *, new, **_):
    handover.on_voucher_reissued(voucher, new)


def _paid(payment, *, now, **_):
    handover.on_payment_paid(payment, now=now)


def connect() -> None:
    voucher_signals.redeemed.connect(_redeemed)
    voucher_signals.undone.connect(_undone)
    voucher_signals.reissued.connect(_reissued)
    payment_signals.paid.connect(_paid)
