"""Claiming a coupon, decided by the database, never by a count read first.

Three conditional writes make a claim, and a refusal is whichever did not happen:
1. the member's counter row (`campaign_member_claims`): `INSERT … ON CONFLICT (campaign, member) DO UPDATE
   SET claimed = claimed + 1, day_claimed = … WHERE claimed < :per_member AND (another day OR day_claimed <
   :per_day)`: the per-member and per-Shanghai-day limits (two claims by one member wait on that row);
2. the quota: `UPDATE campaigns SET claimed = claimed + 1 WHERE id = … AND status = 'active' AND (quota IS
   NULL OR claimed < quota) AND <inside the claim window>` (racing members wait on the campaign row, and a
   CHECK keeps claimed <= quota as the last guard);
3. the voucher (its code, validity, stores and `issued` ledger row) and the coupon row linking it.

On PostgreSQL the three are one statement, a data-modifying CTE (each step selects from the one before), so
a claim is one round trip; on SQLite they are the same statements in one transaction. A refusal raises, and
the request's rollback undoes whichever step had already happened (as for every refusal; a caller making
several claims in one transaction wraps each in a savepoint).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.catalog.models import Product, Sku
from app.core.clock import end_of_day, month_day_time, now_utc, shanghai_today
from app.core.db import UTCDateTime
from app.extensions import db
from app.coupons import rules
from app.coupons.errors import DailyLimit, Ended, MemberLimit, NotStarted, Paused, SoldOut
from app.coupons.models import Campaign, CampaignStatus, Coupon, MemberClaims
from app.vouchers import codes

NO_LIMIT = 2**31 - 1  # a limit of None compares as this, so the statements need no NULL parameters

_MEMBER = """
INSERT INTO campaign_member_claims (campaign_id, member_id, claimed, day, day_claimed)
VALUES (:cid, :member_id, 1, :today, 1)
ON CONFLICT (campaign_id, member_id) DO UPDATE SET
  claimed = campaign_member_claims.claimed + 1,
  day_claimed = CASE WHEN campaign_member_claims.day = excluded.day
                     THEN campaign_member_claims.day_claimed + 1 ELSE 1 END,
  day = excluded.day
WHERE campaign_member_claims.claimed < :per_member
  AND (campaign_member_claims.day <> excluded.day OR campaign_member_claims.day_claimed < :per_day)
RETURNING campaign_id"""

_QUOTA = """
UPDATE campaigns SET claimed = claimed + 1
WHERE id = {cid} AND status = 'active' AND (quota IS NULL OR claimed < quota)
  AND (claim_starts_at IS NULL OR claim_starts_at <= :now) AND (claim_ends_at IS NULL OR claim_ends_at > :now)
RETURNING id"""

_VOUCHER_COLUMNS = """(merchant_id, code, title, handover, value_fen, note, source, member_id, status, uses_total,
  uses_left, min_interval_seconds, valid_from, valid_until, all_stores, static_qr, created_at, updated_at)"""
_VOUCHER_VALUES = """:merchant_id, :code, :title, :handover, CAST(:value_fen AS INTEGER), '', 'coupon', :member_id,
  'issued', :uses, :uses, CAST(:interval AS INTEGER), :valid_from, :valid_until, :all_stores, false, :now, :now"""
_VOUCHER_STORES = "INSERT INTO voucher_stores (voucher_id, store_id) SELECT {vid}, store_id FROM campaign_stores " \
                  "WHERE campaign_id = :cid"
_EVENT_VALUES = "{vid}, :merchant_id, 'issued', 'issued', :uses, '', '', :now"
_EVENT_COLUMNS = "(voucher_id, merchant_id, kind, status_after, uses_delta, device_id, reason, created_at)"
_COUPON_COLUMNS = "(merchant_id, campaign_id, voucher_id, member_id, request_no, claimed_at)"
_COUPON_VALUES = ":merchant_id, :cid, {vid}, :member_id, :request_no, :now"

_PG_CLAIM = f"""
WITH m AS ({_MEMBER}),
q AS ({_QUOTA.format(cid="(SELECT campaign_id FROM m)")}),
v AS (INSERT INTO vouchers {_VOUCHER_COLUMNS} SELECT {_VOUCHER_VALUES} FROM q RETURNING id),
vs AS ({_VOUCHER_STORES.format(vid="v.id")[:-len("WHERE campaign_id = :cid")].replace("FROM campaign_stores",
        "FROM v, campaign_stores")} WHERE campaign_id = :cid),
e AS (INSERT INTO voucher_events {_EVENT_COLUMNS} SELECT {_EVENT_VALUES.format(vid="v.id")} FROM v),
c AS (INSERT INTO coupons {_COUPON_COLUMNS} SELECT {_COUPON_VALUES.format(vid="v.id")} FROM v RETURNING id)
SELECT (SELECT count(*) FROM m) AS member_ok, (SELECT count(*) FROM q) AS quota_ok, (SELECT id FROM c) AS coupon_id
"""

_TYPES = dict(now=UTCDateTime(), valid_from=UTCDateTime(), valid_until=UTCDateTime(), today=sa.Date(),
              all_stores=sa.Boolean(), request_no=sa.String())


def _stmt(sql: str) -> sa.TextClause:
    clause = sa.text(sql)
    wanted = [sa.bindparam(name, type_=type_) for name, type_ in _TYPES.items() if f":{name}" in sql]
    return clause.bindparams(*wanted)


_PG = _stmt(_PG_CLAIM)
_SQLITE = dict(
    member=_stmt(_MEMBER),
    quota=_stmt(_QUOTA.format(cid=":cid")),
    voucher=_stmt(f"INSERT INTO vouchers {_VOUCHER_COLUMNS} VALUES ({_VOUCHER_VALUES}) RETURNING id"),
    stores=_stmt(_VOUCHER_STORES.format(vid=":vid")),
    event=_stmt(f"INSERT INTO voucher_events {_EVENT_COLUMNS} VALUES ({_EVENT_VALUES.format(vid=':vid')})"),
    coupon=_stmt(f"INSERT INTO coupons {_COUPON_COLUMNS} VALUES ({_COUPON_VALUES.format(vid=':vid')}) RETURNING id"),
)


def not_active(campaign: Campaign, now: datetime):
    """The refusal for claiming `campaign` now when it is not open (None when it is)."""
    if campaign.status is CampaignStatus.ENDED or (campaign.claim_ends_at and campaign.claim_ends_at <= now) \
            or (campaign.valid_until is not None and campaign.valid_until <= now):
        return Ended()
    if campaign.status is CampaignStatus.PAUSED:
        return Paused()
    if campaign.status is CampaignStatus.DRAFT or (campaign.claim_starts_at and campaign.claim_starts_at > now):
        starts = campaign.claim_starts_at if campaign.claim_starts_at and campaign.claim_starts_at > now else None
        return NotStarted(starts_at_local=month_day_time(starts) if starts else "另行通知",
                          _starts_at_en=month_day_time(starts, "en") if starts else "later (to be announced)",
                          starts_at=starts.isoformat() if starts else None)
    return None


def validity(campaign: Campaign, claimed_at: datetime) -> tuple[datetime, datetime]:
    """[from, until) of a coupon claimed at `claimed_at`: the campaign's fixed dates, or until the end
    (23:59:59 Shanghai) of the N-th day counting the day of claim."""
    if campaign.days_after_claim is not None:
        return claimed_at, end_of_day(shanghai_today(claimed_at) + timedelta(days=campaign.days_after_claim - 1))
    return campaign.valid_from or claimed_at, campaign.valid_until


def sku_label(campaign: Campaign) -> str:
    if campaign.sku_id is None:
        return ""
    row = db.session.execute(sa.select(Product.name, Sku.name).join(Sku.product).where(Sku.id == campaign.sku_id)).first()
    return f"{row[0]}（{row[1]}）" if row else ""


@dataclass(frozen=True)
class Claimed:
    """What a claim made, known without reading it back (the shop's claim answers from this alone)."""

    coupon_id: int
    code: str
    valid_from: datetime
    valid_until: datetime | None


def claim(campaign: Campaign, member_id: int, *, request_no: str | None = None, now: datetime | None = None) -> Coupon:
    """Gives `member_id` one coupon of `campaign`, or raises the refusal (sold_out, member_limit, daily_limit,
    campaign_not_active). The member must be the campaign's merchant's (the caller checked)."""
    return db.session.get(Coupon, claim_row(campaign, member_id, request_no=request_no, now=now).coupon_id)


def claim_row(campaign: Campaign, member_id: int, *, request_no: str | None = None,
              now: datetime | None = None) -> Claimed:
    """`claim` without loading the coupon afterwards: one round trip on PostgreSQL."""
    now = now or now_utc()
    refused = not_active(campaign, now)
    if refused is not None:
        raise refused
    valid_from, valid_until = validity(campaign, now)
    params = dict(
        cid=campaign.id, member_id=member_id, merchant_id=campaign.merchant_id, today=shanghai_today(now), now=now,
        per_member=campaign.per_member or NO_LIMIT, per_day=campaign.per_member_per_day or NO_LIMIT,
        code=codes.generate(), title=campaign.name[:120], handover=rules.rule_text(campaign, sku_label(campaign)),
        value_fen=campaign.value_fen, uses=campaign.uses,
        interval=campaign.min_interval_minutes * 60 if campaign.min_interval_minutes else None,
        valid_from=valid_from, valid_until=valid_until, all_stores=campaign.all_stores, request_no=request_no,
    )
    if db.session.get_bind().dialect.name == "postgresql":
        member_ok, quota_ok, coupon_id = db.session.execute(_PG, params).one()
    else:
        coupon_id = None
        member_ok = db.session.execute(_SQLITE["member"], params).first() is not None
        quota_ok = member_ok and db.session.execute(_SQLITE["quota"], params).first() is not None
        if quota_ok:
            params["vid"] = db.session.execute(_SQLITE["voucher"], params).scalar_one()
            db.session.execute(_SQLITE["stores"], params)
            db.session.execute(_SQLITE["event"], params)
            coupon_id = db.session.execute(_SQLITE["coupon"], params).scalar_one()
    if coupon_id is None:
        raise _refusal(campaign, member_id, member_ok=bool(member_ok), now=now)
    return Claimed(coupon_id, params["code"], valid_from, valid_until)


def _refusal(campaign: Campaign, member_id: int, *, member_ok: bool, now: datetime):
    """Which limit refused a claim: read after the fact, only to word the answer."""
    if not member_ok:
        row = db.session.get(MemberClaims, (campaign.id, member_id))
        if campaign.per_member and row is not None and row.claimed >= campaign.per_member:
            return MemberLimit(max_claims=campaign.per_member)
        return DailyLimit(max_claims=campaign.per_member_per_day)
    db.session.refresh(campaign)
    return not_active(campaign, now) or SoldOut()
