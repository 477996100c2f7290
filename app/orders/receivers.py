"""Orders follow their pickup voucher: redeemed at the counter → picked up; redemption undone → ready."""
from __future__ import annotations

from app.vouchers import signals


def _redeemed(voucher, *, now, **_):
    from app.orders.service import on_picked_up

    on_picked_up(voucher, now=now)


def _undone(voucher, *, now, **_):
    from app.orders.service import on_pickup_undone

    on_pickup_undone(voucher, now=now)


def connect() -> None:
    signals.redeemed.connect(_redeemed)
    signals.undone.connect(_undone)
