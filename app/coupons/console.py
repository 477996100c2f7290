"""What the merchant console changes about campaigns: create, edit (type and value locked once claimed),
pause / resume / end, and issue a coupon to one member or a phone number. Each checks the actor's scope and
records the change in the audit log in the same transaction. Services flush; the request commits.

A store manager sees the campaigns their store accepts (every store, or theirs among the campaign's) and
the coupons of those campaigns; editing is for the owner and operators (app.merchants.permissions)."""
from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm

from app.core.errors import BadRequest, Conflict, NotFound
from app.extensions import db
from app.members import phone as phones
from app.members.models import Member
from app.members.service import member_for_phone
from app.merchants import audit, scope as scoping
from app.merchants.models import Merchant
from app.merchants.scope import Scope
from app.coupons import campaigns
from app.coupons.campaigns import CampaignSpec
from app.coupons.claim import claim
from app.coupons.models import TRANSITIONS, Campaign, CampaignStatus, CampaignStore, Coupon
from app.vouchers import service as vouchers
from app.vouchers.models import Voucher


def _accepted_at(store_id: int | None):
    """SQL: the campaign (the outer query's Campaign) is accepted at `store_id`."""
    return sa.or_(Campaign.all_stores.is_(True), sa.exists().where(
        CampaignStore.campaign_id == Campaign.id, CampaignStore.store_id == store_id))


_C = sa.orm.aliased(Campaign)
scoping.register(Campaign, lambda scope: [_accepted_at(scope.store_id)])
scoping.register(Coupon, lambda scope: [sa.exists().where(
    _C.id == Coupon.campaign_id, sa.or_(_C.all_stores.is_(True), sa.exists().where(
        CampaignStore.campaign_id == _C.id, CampaignStore.store_id == scope.store_id)))])

FIELDS = ("name", "rules_text", "type", "value_fen", "threshold_fen", "percent_off", "cap_fen", "sku_id", "uses",
          "min_interval_minutes", "quota", "per_member", "per_member_per_day", "claim_starts_at", "claim_ends_at",
          "valid_from", "valid_until", "days_after_claim", "online", "counter", "with_member_price",
          "transferable", "status")


def create(scope: Scope, spec: CampaignSpec) -> Campaign:
    campaign = campaigns.create(db.session.get(Merchant, scope.merchant_id), spec)
    audit.record(scope, "campaign.create", "campaign", campaign.id,
                 after={**audit.summary(campaign, FIELDS), "store_ids": campaign.store_ids})
    return campaign


def update(scope: Scope, campaign_id: int, spec: CampaignSpec) -> Campaign:
    campaign = scope.get(Campaign, campaign_id)
    changed = campaigns.update(campaign, spec)
    if changed:
        plain = lambda v: v.isoformat() if hasattr(v, "isoformat") else getattr(v, "value", v)  # noqa: E731
        audit.record(scope, "campaign.update", "campaign", campaign.id,
                     before={k: plain(b) for k, (b, _) in changed.items()},
                     after={k: plain(a) for k, (_, a) in changed.items()})
    return campaign


ACTIONS = {"pause": CampaignStatus.PAUSED, "resume": CampaignStatus.ACTIVE, "end": CampaignStatus.ENDED}


def set_status(scope: Scope, campaign_id: int, action: str) -> Campaign:
    """pause, resume (also: start a draft) or end; a change the campaign's status does not allow is a
    409 saying so."""
    campaign = scope.get(Campaign, campaign_id)
    to = ACTIONS[action]
    before = campaign.status
    if to not in TRANSITIONS[before] or not campaigns.set_status(campaign, to):
        raise Conflict(zh=f"活动当前状态不能执行此操作（{before.value}）。",
                       en=f"The campaign's status ({before.value}) does not allow this.")
    audit.record(scope, f"campaign.{action}", "campaign", campaign.id, before={"status": before.value},
                 after={"status": to.value})
    return campaign


def issue(scope: Scope, campaign_id: int, *, member_id: int | None = None, phone: str | None = None) -> Coupon:
    """Gives one coupon to a member (by id) or to whoever holds a phone number (a member is made for a number
    not yet known), under the campaign's quota and limits like any claim."""
    campaign = scope.get(Campaign, campaign_id)
    if member_id is not None:
        member = db.session.get(Member, member_id)
        if member is None or member.merchant_id != scope.merchant_id:
            raise BadRequest(field="member_id", zh="没有这位会员。", en="No such member.")
    elif phone:
        member = member_for_phone(scope.merchant_id, phones.normalise(phone))
    else:
        raise BadRequest(field="phone", zh="请填写会员编号或手机号。", en="Give a member id or a phone number.")
    coupon = claim(campaign, member.id)
    audit.record(scope, "campaign.issue", "campaign", campaign.id,
                 after={"coupon_id": coupon.id, "member_id": member.id})
    return coupon


def coupons_of(scope: Scope, campaign_id: int, *, search: str = "", limit: int = 50) -> list[Coupon]:
    """The campaign's coupons, newest first; `search` finds a code (with or without dashes) or a phone."""
    query = scope.select(Coupon).where(Coupon.campaign_id == campaign_id)
    text = search.strip().upper().replace("-", "").replace(" ", "")
    if text:
        query = query.join(Coupon.voucher).join(Member, Member.id == Coupon.member_id).where(
            sa.or_(Voucher.code.contains(text), Member.phone.contains(text)))
    return list(db.session.execute(query.order_by(Coupon.id.desc()).limit(limit)).unique().scalars())


def revoke(scope: Scope, campaign_id: int, coupon_id: int, *, reason: str) -> Coupon:
    """Revokes an issued coupon (its voucher) with a reason; a used one stays used (already_redeemed)."""
    scope.get(Campaign, campaign_id)
    coupon = scope.get(Coupon, coupon_id)
    if coupon.campaign_id != campaign_id:
        raise NotFound()
    if not reason.strip():
        raise BadRequest(field="reason", zh="请填写撤回原因。", en="Give a reason.")
    vouchers.revoke(coupon.voucher, reason=reason.strip()[:255], staff_id=scope.staff_id)
    audit.record(scope, "campaign.revoke_coupon", "coupon", coupon.id, after={"reason": reason.strip()[:255]})
    return coupon
