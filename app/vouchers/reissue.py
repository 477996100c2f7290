"""Reissue: a new voucher with the same terms replacing a lost or revoked one.

The rule: a voucher with uses left (lost) is revoked by the reissue, so the old code stops working in the
same transaction (conditionally: a redeem that got there first wins, and the reissue is refused with that
redemption); a revoked one is replaced as it is; a redeemed, void or expired one is not replaced (nothing is
left to hand over, or its order was refunded). The new voucher keeps the title, what to hand over, value,
uses left, interval, validity, stores, holder and source; it names the old one (`replaces_id`, unique: one
replacement per voucher, which the database decides when two people reissue at the same moment). Orders
listen to `signals.reissued` and move their pickup link to the new voucher.
"""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.core.clock import iso, month_day_time, now_utc
from app.core.errors import BadRequest
from app.extensions import db
from app.merchants.models import Merchant
from app.vouchers import codes, signals
from app.vouchers.errors import AlreadyReissued, Expired, NotReissuable
from app.vouchers.models import USABLE, Voucher, VoucherStatus
from app.vouchers.service import effective_status, issue, revoke

STATUS_LABELS = {"issued": "未使用", "partly_used": "部分使用", "redeemed": "已核销", "expired": "已过期",
                 "revoked": "已撤回", "void": "已作废"}


def replacement_of(voucher: Voucher) -> Voucher | None:
    return db.session.execute(sa.select(Voucher).where(Voucher.replaces_id == voucher.id)).scalar_one_or_none()


def reissue(voucher: Voucher, *, reason: str, staff_id: int | None = None) -> Voucher:
    """Replaces `voucher` (see the module's rule) and returns the new voucher; the old one is revoked."""
    reason = (reason or "").strip()
    if not reason:
        raise BadRequest(field="reason", zh="请填写补发原因。", en="Give a reason for the reissue.")
    earlier = replacement_of(voucher)
    if earlier is not None:
        raise AlreadyReissued(code=codes.pretty(earlier.code))
    now = now_utc()
    status = effective_status(voucher, now)
    if status == VoucherStatus.EXPIRED.value:
        until = voucher.valid_until - timedelta(seconds=1)
        raise Expired(valid_until=iso(voucher.valid_until), valid_until_local=month_day_time(until),
                      _valid_until_en=month_day_time(until, "en"))
    if voucher.status in USABLE:
        revoke(voucher, reason=f"补发新券：{reason}", staff_id=staff_id)  # conditional: a redeem first wins
    elif voucher.status is not VoucherStatus.REVOKED:
        raise NotReissuable(status=status, status_label=STATUS_LABELS.get(status, status))
    merchant = db.session.get(Merchant, voucher.merchant_id)
    try:
        with db.session.begin_nested():
            new = issue(merchant, title=voucher.title, handover=voucher.handover, value_fen=voucher.value_fen,
                        note=voucher.note, source=voucher.source, uses=voucher.uses_left,
                        min_interval_seconds=voucher.min_interval_seconds, valid_from=voucher.valid_from,
                        valid_until=voucher.valid_until,
                        store_ids=None if voucher.all_stores else voucher.store_ids, member_id=voucher.member_id,
                        static_qr=voucher.static_qr, staff_id=staff_id)
            new.replaces_id = voucher.id
            new.next_use_at = voucher.next_use_at
            db.session.flush()
    except IntegrityError:
        earlier = replacement_of(voucher)
        raise AlreadyReissued(code=codes.pretty(earlier.code) if earlier else "")
    signals.reissued.send(voucher, new=new)
    return new
