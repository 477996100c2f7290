"""Campaign factories and a claim that reports its refusal's code (in a savepoint, as a request would roll back)."""
from __future__ import annotations

from app.core.errors import DomainError
from app.coupons import campaigns
from app.coupons.campaigns import CampaignSpec
from app.coupons.claim import claim
from app.coupons.models import CampaignType
from app.extensions import db


def make_campaign(merchant, **kw):
    kw.setdefault("name", "新客立减5元")
    kw.setdefault("type", CampaignType.CASH_OFF)
    if kw["type"] in (CampaignType.CASH_OFF, CampaignType.THRESHOLD):
        kw.setdefault("value_fen", 500)
    if "valid_until" not in kw:
        kw.setdefault("days_after_claim", 7)
    for name in ("store_ids", "product_ids", "category_ids"):
        if name in kw:
            kw[name] = tuple(kw[name])
    return campaigns.create(merchant, CampaignSpec(**kw))


def try_claim(campaign, member_id, **kw):
    """The coupon, or the refusal's code; a refusal's writes are rolled back like a request's."""
    savepoint = db.session.begin_nested()
    try:
        coupon = claim(campaign, member_id, **kw)
    except DomainError as exc:
        savepoint.rollback()
        return exc.code
    savepoint.commit()
    return coupon
