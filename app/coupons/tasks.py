"""Coupons' background work, every 10 minutes: mark coupons past their validity 已过期 (pages and the counter
already treat them as expired by their time; this makes the stored status say so, with a ledger row each),
and return gifts nobody accepted in time. Conditional updates: two workers at once do each thing once."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from app.core import tasks
from app.core.clock import now_utc
from app.extensions import db
from app.coupons import gifts
from app.vouchers.models import USABLE, Voucher, VoucherEvent, VoucherSource, VoucherStatus


def expire(now: datetime, limit: int = 1000) -> int:
    """Marks up to `limit` usable coupons past valid_until expired; returns how many."""
    due = sa.select(Voucher.id).where(Voucher.source == VoucherSource.COUPON, Voucher.status.in_(USABLE),
                                      Voucher.valid_until <= now).order_by(Voucher.id).limit(limit)
    ids = list(db.session.execute(due).scalars())
    done = 0
    for voucher_id in ids:
        row = db.session.execute(
            sa.update(Voucher).where(Voucher.id == voucher_id, Voucher.status.in_(USABLE), Voucher.valid_until <= now)
            .values(status=VoucherStatus.EXPIRED, updated_at=now).returning(Voucher.merchant_id)
            .execution_options(synchronize_session=False)).first()
        if row is not None:
            db.session.add(VoucherEvent(voucher_id=voucher_id, merchant_id=row.merchant_id, kind="expired",
                                        status_before=None, status_after=VoucherStatus.EXPIRED.value,
                                        reason="有效期已过", created_at=now))
            done += 1
    db.session.flush()
    return done


@tasks.periodic("coupons.expire_and_return_gifts", minute="*/10")
def expire_and_return_gifts() -> int:
    with tasks.transaction():
        now = now_utc()
        return expire(now) + gifts.return_expired(now)
