"""What the merchant console does with vouchers: search, read, revoke, reissue, undo a redemption. Every
query goes through the actor's Scope; every change is recorded in the audit log in the same transaction.

Who sees which voucher (the store rule registered here): owners and operators every voucher of the merchant;
a store manager the vouchers redeemable at their store, that is every voucher valid at all stores and those
whose stores include theirs. An order's pickup voucher is bound to the order's store (app.orders), so this
is also "the vouchers of orders at their store". A voucher's page shows its whole history (events and
redemptions, with the store and staff names, as the counter's already_redeemed refusal names them too); a
manager may undo only a redemption made at their store (the Redemption rule: the redeeming store undoes).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from app.core.clock import end_of_day, now_utc, start_of_day
from app.core.errors import NotFound
from app.extensions import db
from app.members.models import Member
from app.merchants import audit
from app.merchants.models import Merchant, Staff, Store
from app.merchants.scope import Scope, register
from app.vouchers import codes
from app.vouchers import redeem as redeeming
from app.vouchers import service
from app.vouchers.models import (
    USABLE, Redemption, Voucher, VoucherEvent, VoucherSource, VoucherStatus, VoucherStore,
)
from app.vouchers.reissue import reissue, replacement_of


def redeemable_at(store_id: int | None) -> sa.ColumnElement[bool]:
    return sa.or_(Voucher.all_stores.is_(True), Voucher.id.in_(
        sa.select(VoucherStore.voucher_id).where(VoucherStore.store_id == store_id)))


register(Voucher, lambda scope: [redeemable_at(scope.store_id)])
register(Redemption, lambda scope: [Redemption.store_id == scope.store_id])
register(VoucherEvent, lambda scope: [VoucherEvent.voucher_id.in_(
    sa.select(Voucher.id).where(Voucher.merchant_id == scope.merchant_id, redeemable_at(scope.store_id)))])

STATUSES = tuple(s.value for s in VoucherStatus)
SOURCES = tuple(s.value for s in VoucherSource)


@dataclass(frozen=True)
class VoucherFilter:
    q: str = ""               # a code as typed (dashes, spaces, case, or its start), a phone or a nickname
    status: str = ""          # a VoucherStatus value; "expired" includes usable ones past their validity
    store_id: int | None = None
    source: str = ""
    redeemed_on: date | None = None          # redeemed (not undone) on this Asia/Shanghai day ...
    redeemed_store_id: int | None = None     # ... at this store: the dashboard's redemptions link here


def search(scope: Scope, f: VoucherFilter, *, now: datetime | None = None) -> sa.Select:
    """The vouchers `scope` may see matching `f`, with their member (Voucher, Member | None)."""
    now = now or now_utc()
    query = scope.select(Voucher, Voucher, Member).outerjoin(Member, Member.id == Voucher.member_id)
    text = f.q.strip()
    if text:
        either = [Member.nickname.contains(text, autoescape=True)]
        code = codes.normalise(text)
        if code and code == text.upper().replace("-", "").replace(" ", ""):
            either.append(Voucher.code.startswith(code))
        digits = text.replace(" ", "").replace("-", "")
        if digits.isdigit():
            either.append(Member.phone.contains(digits, autoescape=True))
        query = query.where(sa.or_(*either))
    if f.status == VoucherStatus.EXPIRED.value:
        query = query.where(sa.or_(Voucher.status == VoucherStatus.EXPIRED, sa.and_(
            Voucher.status.in_(USABLE), Voucher.valid_until.is_not(None), Voucher.valid_until <= now)))
    elif f.status in STATUSES:
        query = query.where(Voucher.status == VoucherStatus(f.status))
        if VoucherStatus(f.status) in USABLE:
            query = query.where(sa.or_(Voucher.valid_until.is_(None), Voucher.valid_until > now))
    if f.store_id is not None:
        scope.get(Store, f.store_id)  # another merchant's store, or for a manager another store: NotFound
        query = query.where(redeemable_at(f.store_id))
    if f.source in SOURCES:
        query = query.where(Voucher.source == VoucherSource(f.source))
    if f.redeemed_on is not None or f.redeemed_store_id is not None:
        used = scope.where(Redemption) + [Redemption.undone_at.is_(None)]
        if f.redeemed_on is not None:
            used += [Redemption.redeemed_at >= start_of_day(f.redeemed_on),
                     Redemption.redeemed_at < end_of_day(f.redeemed_on)]
        if f.redeemed_store_id is not None:
            scope.get(Store, f.redeemed_store_id)
            used.append(Redemption.store_id == f.redeemed_store_id)
        query = query.where(Voucher.id.in_(sa.select(Redemption.voucher_id).where(*used)))
    return query


@dataclass
class VoucherDetail:
    voucher: Voucher
    member: Member | None
    events: list[tuple[VoucherEvent, str, str]]          # the event, its store's name, its staff's name
    redemptions: list[tuple[Redemption, str, str, str]]  # the redemption, store, staff, undone by
    stores: list[str]                                    # where it can be redeemed ([]: every store)
    replaces: Voucher | None
    replaced_by: Voucher | None
    undoable_id: int | None                              # the latest use, if this person may try to undo it


def detail(scope: Scope, voucher_id: int) -> VoucherDetail:
    voucher = scope.get(Voucher, voucher_id)
    stores = dict(db.session.execute(sa.select(Store.id, Store.name).where(
        Store.merchant_id == scope.merchant_id)).all())
    staff = dict(db.session.execute(sa.select(Staff.id, Staff.name).where(
        Staff.merchant_id == scope.merchant_id)).all())
    events = db.session.execute(scope.select(VoucherEvent).where(VoucherEvent.voucher_id == voucher.id)
                                .order_by(VoucherEvent.id)).scalars()
    redemptions = list(db.session.execute(sa.select(Redemption).where(
        Redemption.voucher_id == voucher.id, Redemption.merchant_id == scope.merchant_id)
        .order_by(Redemption.id)).scalars())
    latest = next((r for r in reversed(redemptions) if r.undone_at is None), None)
    undoable = latest is not None and (not scope.store_bound or latest.store_id == scope.store_id)
    return VoucherDetail(
        voucher=voucher, member=db.session.get(Member, voucher.member_id) if voucher.member_id else None,
        events=[(e, stores.get(e.store_id, ""), staff.get(e.staff_id, "")) for e in events],
        redemptions=[(r, stores.get(r.store_id, ""), staff.get(r.staff_id, ""), staff.get(r.undone_by_staff_id, ""))
                     for r in redemptions],
        stores=[] if voucher.all_stores else [stores.get(s, "") for s in voucher.store_ids],
        replaces=db.session.get(Voucher, voucher.replaces_id) if voucher.replaces_id else None,
        replaced_by=replacement_of(voucher), undoable_id=latest.id if undoable else None)


# ------------------------------------------------------------------------------------------------ changes

def revoke(scope: Scope, voucher_id: int, reason: str) -> Voucher:
    voucher = scope.get(Voucher, voucher_id)
    before = voucher.status.value
    service.revoke(voucher, reason=reason, staff_id=scope.staff_id)
    if voucher.status.value != before:  # revoking a revoked voucher again changes nothing, and records nothing
        audit.record(scope, "voucher.revoke", "voucher", voucher.id, before={"status": before},
                     after={"status": voucher.status.value, "reason": reason.strip()})
    return voucher


def reissue_voucher(scope: Scope, voucher_id: int, reason: str) -> Voucher:
    """A new voucher with the same terms (app.vouchers.reissue); the old one ends. Returns the new one."""
    voucher = scope.get(Voucher, voucher_id)
    before = voucher.status.value
    new = reissue(voucher, reason=reason, staff_id=scope.staff_id)
    db.session.refresh(voucher)
    audit.record(scope, "voucher.reissue", "voucher", voucher.id, before={"status": before},
                 after={"status": voucher.status.value, "replaced_by": new.id, "reason": reason.strip()})
    return new


def undo_redemption(scope: Scope, voucher_id: int, redemption_id: int, reason: str) -> Redemption:
    """Undoes the voucher's latest redemption for the store that made it (its undo window and rules apply)."""
    voucher = scope.get(Voucher, voucher_id)
    redemption = scope.get(Redemption, redemption_id)
    if redemption.voucher_id != voucher.id:
        raise NotFound()
    merchant = db.session.get(Merchant, scope.merchant_id)
    actor = service.Actor(merchant_id=scope.merchant_id, store_id=redemption.store_id, staff_id=scope.staff_id,
                          device_id="console")
    already = redemption.undone_at is not None
    result = redeeming.undo(redemption.id, actor, reason=reason, undo_window_minutes=merchant.undo_window_minutes)
    if not already:  # a repeated undo answers as the first did, and records nothing
        audit.record(scope, "redemption.undo", "redemption", redemption.id,
                     after={"voucher_id": voucher.id, "reason": (reason or "").strip()})
    return result.redemption
