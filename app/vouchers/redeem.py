"""Redeem and undo: the counter's two writes, each decided by the database.

Redeem claims its idempotency key with `INSERT … ON CONFLICT DO NOTHING`, then takes the uses with one
conditional `UPDATE`; the statuses it may start from come from the voucher state machine's table. Undo
marks the latest live redemption undone and gives the uses back, again conditionally.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.core import states
from app.core.clock import iso, now_utc
from app.core.errors import BadRequest, NotFound
from app.extensions import db
from app.merchants.models import Store
from app.vouchers import signals
from app.vouchers.errors import AlreadyRedeemed, Forged, IdempotencyKeyReused, NotLatestUse, Revoked, UndoWindowPassed, WrongStore
from app.vouchers.models import TRANSITIONS, EventKind, Redemption, Voucher, VoucherStatus
from app.vouchers.redeem_sql import Statements
from app.vouchers.service import Actor, _event, _redeemed_details, parse_presented, refusal, voucher_json

# A redeem leaves the voucher partly used or redeemed, so it may start from any status that may become
# either; an undo leaves it issued or partly used. Both lists come from the state machine's table.
REDEEM_FROM = states.values(states.sources(TRANSITIONS, VoucherStatus.PARTLY_USED, VoucherStatus.REDEEMED))
UNDO_FROM = states.values(states.sources(TRANSITIONS, VoucherStatus.ISSUED, VoucherStatus.PARTLY_USED))

_SQL = Statements(REDEEM_FROM)
_TAKE_USES = _SQL.take_uses  # parameters: vid, n, now, next_use


@dataclass
class RedeemResult:
    answer: dict          # the API answer; a replay returns the same one
    redemption_id: int
    replayed: bool = False


def redeem(voucher: Voucher, actor: Actor, *, uses: int = 1, idempotency_key: str | None = None) -> RedeemResult:
    """Takes `uses` uses of `voucher` at the actor's store, exactly once.

    1. Claim the idempotency key with INSERT ... ON CONFLICT DO NOTHING. A concurrent request with the
       same key waits for ours to commit, inserts nothing and replays our answer.
    2. Take the uses with one conditional UPDATE; its row count decides between racing counters.
    A refusal raises, and the request's rollback releases the claimed key.
    """
    if uses < 1:
        raise BadRequest(field="uses")
    now = now_utc()
    key = (idempotency_key or "").strip()[:64]
    if not key:
        # Nothing to replay: refuse before taking any lock.
        reason = refusal(voucher, actor.store_id, uses, now)
        if reason is not None:
            raise reason
        key = f"auto-{uuid.uuid4().hex}"
    predicted_left = voucher.uses_left - uses
    predicted_status = VoucherStatus.REDEEMED if predicted_left == 0 else VoucherStatus.PARTLY_USED
    next_use = now + timedelta(seconds=voucher.min_interval_seconds) if voucher.min_interval_seconds else None
    claim = dict(
        voucher_id=voucher.id, merchant_id=voucher.merchant_id, store_id=actor.store_id,
        staff_id=actor.staff_id, api_key_id=actor.api_key_id, device_id=actor.device_id[:64],
        uses=uses, idempotency_key=key, redeemed_at=now, prev_next_use_at=voucher.next_use_at,
        uses_left_after=predicted_left, status_after=predicted_status.value,
    )
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql" and refusal(voucher, actor.store_id, uses, now) is None:
        # The common case in one round trip: claim, take and ledger row (app.vouchers.redeem_sql).
        row = db.session.execute(_SQL.one_trip(), dict(
            {f"r_{k}": v for k, v in claim.items()}, vid=voucher.id, n=uses, now=now, next_use=next_use, status_before=voucher.status.value,
        )).one_or_none()
        if row is None:
            return _replay(_by_key(actor.store_id, key), voucher)
        claimed, won, logged = row.id, (row if row.status is not None else None), True
    else:
        claimed = db.session.execute(_SQL.claim(dialect), claim).scalar()
        if claimed is None:
            return _replay(_by_key(actor.store_id, key), voucher)
        reason = refusal(voucher, actor.store_id, uses, now)
        if reason is not None:
            raise reason
        won = db.session.execute(_TAKE_USES, dict(vid=voucher.id, n=uses, now=now, next_use=next_use)).one_or_none()
        logged = False
    if won is None:
        # Lost the race: another counter changed the voucher since we read it. Name the reason.
        db.session.refresh(voucher)
        raise refusal(voucher, actor.store_id, uses, now) or AlreadyRedeemed(
            **_redeemed_details(voucher), voucher=voucher_json(voucher, now))

    status_after = VoucherStatus(won.status)
    if won.uses_left != predicted_left or status_after is not predicted_status:
        # Another use was taken between our read and our update (multi-use cards): record the truth.
        db.session.execute(
            sa.update(Redemption).where(Redemption.id == claimed)
            .values(uses_left_after=won.uses_left, status_after=status_after.value)
            .execution_options(synchronize_session=False))
    if not logged:
        _event(voucher, EventKind.REDEEMED, voucher.status, status_after, actor=actor, redemption_id=claimed,
               uses_delta=-uses)
    answer = _answer(voucher, claimed, actor.store_id, actor.staff_id, uses, now, won.uses_left, status_after.value)
    signals.redeemed.send(voucher, redemption_id=claimed, store_id=actor.store_id, uses=uses, now=now)
    return RedeemResult(answer, claimed)


def _answer(voucher: Voucher, redemption_id: int, store_id: int, staff_id: int | None, uses: int,
            redeemed_at: datetime, uses_left: int, status: str) -> dict:
    """The answer to a redeem, built only from what the redemption recorded, so a replay is identical."""
    body = voucher_json(voucher, redeemed_at)
    next_use = redeemed_at + timedelta(seconds=voucher.min_interval_seconds) if voucher.min_interval_seconds else None
    body.update(uses_left=uses_left, status=status, next_use_at=iso(next_use if uses_left else None))
    return {
        "redemption": {"id": redemption_id, "voucher_id": voucher.id, "store_id": store_id, "staff_id": staff_id,
                       "uses": uses, "redeemed_at": iso(redeemed_at)},
        "voucher": body,
    }


def replay(actor: Actor, idempotency_key: str | None, presented: str, *, secret: str) -> RedeemResult | None:
    """The first answer for a retried redeem, looked up before the code is checked again: a retry must
    succeed even when the rotating QR it carried has gone stale since."""
    key = (idempotency_key or "").strip()[:64]
    if not key:
        return None
    earlier = db.session.execute(
        sa.select(Redemption).where(Redemption.store_id == actor.store_id, Redemption.idempotency_key == key)
    ).scalar_one_or_none()
    if earlier is None:
        return None
    voucher = db.session.get(Voucher, earlier.voucher_id)
    try:
        kind, value = parse_presented(presented, secret=secret, max_age=10**9)
    except (Forged, BadRequest):
        return None  # the normal path refuses it
    if value != (voucher.id if kind == "id" else voucher.code):
        raise IdempotencyKeyReused(field="idempotency_key")
    return _replay(earlier, voucher)


def _by_key(store_id: int, key: str) -> Redemption:
    return db.session.execute(
        sa.select(Redemption).where(Redemption.store_id == store_id, Redemption.idempotency_key == key)
    ).scalar_one()


def _replay(earlier: Redemption, voucher: Voucher) -> RedeemResult:
    if earlier.voucher_id != voucher.id:
        raise IdempotencyKeyReused(field="idempotency_key")
    answer = _answer(voucher, earlier.id, earlier.store_id, earlier.staff_id, earlier.uses, earlier.redeemed_at,
                     earlier.uses_left_after, earlier.status_after)
    return RedeemResult(answer, earlier.id, replayed=True)


# ---------------------------------------------------------------- undo

@dataclass
class UndoResult:
    redemption: Redemption
    voucher: Voucher


def undo(redemption_id: int, actor: Actor, *, reason: str, undo_window_minutes: int) -> UndoResult:
    reason = (reason or "").strip()
    if not reason:
        raise BadRequest(field="reason", zh="请填写撤销原因。", en="Give a reason for the undo.")
    now = now_utc()
    redemption = db.session.execute(
        sa.select(Redemption).where(Redemption.id == redemption_id, Redemption.merchant_id == actor.merchant_id)
    ).scalar_one_or_none()
    if redemption is None:
        raise NotFound(zh="没有这条核销记录。", en="No such redemption.")
    voucher = redemption.voucher
    if redemption.store_id != actor.store_id:
        store = db.session.get(Store, redemption.store_id)
        raise WrongStore(zh="只能由核销门店（{stores}）撤销。", en="Only the redeeming store ({stores}) can undo.",
                         stores=store.name, store_ids=[store.id])
    if redemption.undone_at is not None:
        return UndoResult(redemption, voucher)  # a retried undo returns the first answer
    if now - redemption.redeemed_at > timedelta(minutes=undo_window_minutes):
        raise UndoWindowPassed(minutes=undo_window_minutes)

    later = sa.select(Redemption.id).where(
        Redemption.voucher_id == redemption.voucher_id, Redemption.undone_at.is_(None),
        Redemption.id > redemption.id,
    ).exists()
    marked = db.session.execute(
        sa.update(Redemption)
        .where(Redemption.id == redemption.id, Redemption.undone_at.is_(None), ~later)
        .values(undone_at=now, undone_by_staff_id=actor.staff_id, undo_reason=reason[:255])
        .execution_options(synchronize_session=False)
    ).rowcount
    if marked != 1:
        db.session.refresh(redemption)
        if redemption.undone_at is not None:
            return UndoResult(redemption, voucher)
        raise NotLatestUse()

    back = db.session.execute(
        sa.update(Voucher)
        .where(Voucher.id == voucher.id,
               Voucher.status.in_(UNDO_FROM))
        .values(
            uses_left=Voucher.uses_left + redemption.uses,
            status=sa.case((Voucher.uses_left + redemption.uses == Voucher.uses_total, VoucherStatus.ISSUED.value),
                           else_=VoucherStatus.PARTLY_USED.value),
            next_use_at=redemption.prev_next_use_at,
            updated_at=now,
        )
        .returning(Voucher.status)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    status_before = voucher.status
    if back is None:
        raise refusal(voucher, actor.store_id, 1, now) or Revoked(reason="")
    db.session.refresh(redemption)
    db.session.expire(voucher)
    _event(voucher, EventKind.UNDONE, status_before, VoucherStatus(back.status), actor=actor,
           redemption_id=redemption.id, uses_delta=redemption.uses, reason=reason)
    db.session.flush()
    signals.undone.send(voucher, redemption_id=redemption.id, now=now)
    return UndoResult(redemption, voucher)
