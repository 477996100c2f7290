"""Campaigns and grants from other systems (merchant key): create a campaign (idempotent by request_no), read
it with its counts, and grant a coupon to a member by phone, openid or id (idempotent by request_no)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, g, jsonify, request, url_for

from app.core.clock import iso, now_utc
from app.core.database import rollback
from app.core.errors import DomainError, NotFound
from app.core.schemas import parse
from app.coupons import campaigns
from app.coupons.claim import claim
from app.coupons.models import Campaign, Coupon
from app.coupons.schemas import ById, ByOpenid, ByPhone, CampaignRequest, GrantRequest
from app.extensions import db
from app.members import phone as phones
from app.members.models import Member
from app.members.service import member_for_phone, member_for_wechat
from app.merchants.models import KeyKind
from app.reports.campaigns import figures
from app.vouchers import codes
from app.vouchers.links import qr_content, qr_token
from app.vouchers.service import effective_status
from app.web.api import bp
from app.web.api.common import merchant
from app.web.auth import key_required


def campaign_json(c: Campaign) -> dict:
    f = figures([c.id])[c.id]
    valid = {"days_after_claim": c.days_after_claim} if c.days_after_claim else \
        {"from": iso(c.valid_from), "until": iso(c.valid_until)}
    return {
        "id": c.id, "request_no": c.request_no, "status": c.status.value, "type": c.type.value, "name": c.name,
        "rules_text": c.rules_text, "value_fen": c.value_fen, "threshold_fen": c.threshold_fen,
        "percent_off": c.percent_off, "cap_fen": c.cap_fen, "sku_id": c.sku_id, "uses": c.uses,
        "min_interval_minutes": c.min_interval_minutes, "quota": c.quota, "claimed": c.claimed,
        "redeemed": f.used_online + f.coupons_used_at_counter, "per_member": c.per_member,
        "per_member_per_day": c.per_member_per_day, "valid": valid,
        "stores": None if c.all_stores else c.store_ids,
        "products": None if c.all_products else (c.product_ids or None),
        "categories": None if c.all_products else (c.category_ids or None),
        "online": c.online, "counter": c.counter, "transferable": c.transferable,
        "with_member_price": c.with_member_price,
    }


def _by_request_no(request_no: str) -> Campaign | None:
    return db.session.execute(sa.select(Campaign).where(Campaign.merchant_id == g.principal.merchant_id,
                                                        Campaign.request_no == request_no)).scalar_one_or_none()


@bp.post("/campaigns")
@key_required(KeyKind.MERCHANT)
def create_campaign():
    data = parse(CampaignRequest, request.get_json(silent=True))
    earlier = _by_request_no(data.request_no)
    if earlier is not None:
        return jsonify(campaign_json(earlier)), 200
    try:
        created = campaigns.create(merchant(), data.spec())
    except sa.exc.IntegrityError:
        rollback()  # the same request_no created concurrently: answer with the one that won
        earlier = _by_request_no(data.request_no)
        if earlier is None:
            raise
        return jsonify(campaign_json(earlier)), 200
    return jsonify(campaign_json(created)), 201


def _own(campaign_id: int) -> Campaign:
    return campaigns.get(g.principal.merchant_id, campaign_id)


@bp.get("/campaigns/<id:campaign_id>")
@key_required(KeyKind.MERCHANT)
def get_campaign(campaign_id: int):
    return jsonify(campaign_json(_own(campaign_id)))


def grant_json(coupon: Coupon) -> dict:
    v = coupon.voucher
    token = qr_token(v, rotating=False)
    return {"coupon": {"id": coupon.id, "code": codes.pretty(v.code), "token": token,
                       "qr_url": current_app.config["APP_BASE_URL"] + url_for("shop.qr_png", token=token),
                       "qr_content": qr_content(token), "status": effective_status(v, now_utc()),
                       "valid_from": iso(v.valid_from), "valid_until": iso(v.valid_until),
                       "campaign_id": coupon.campaign_id},
            "member": {"id": coupon.member_id}}


def _member(who) -> Member:
    merchant_id = g.principal.merchant_id
    if isinstance(who, ByPhone):
        return member_for_phone(merchant_id, phones.normalise(who.phone))
    if isinstance(who, ByOpenid):
        return member_for_wechat(merchant_id, openid=who.openid)
    member = db.session.get(Member, who.id)
    if member is None or member.merchant_id != merchant_id:
        raise NotFound(zh="没有这位会员。", en="No such member.")
    return member


def _granted(campaign_id: int, request_no: str) -> Coupon | None:
    return db.session.execute(sa.select(Coupon).where(Coupon.campaign_id == campaign_id,
                                                      Coupon.request_no == request_no)).scalar_one_or_none()


@bp.post("/campaigns/<id:campaign_id>/grants")
@key_required(KeyKind.MERCHANT)
def grant_coupon(campaign_id: int):
    data = parse(GrantRequest, request.get_json(silent=True))
    campaign = _own(campaign_id)
    earlier = _granted(campaign.id, data.request_no)
    if earlier is not None:
        return jsonify(grant_json(earlier)), 200
    try:
        coupon = claim(campaign, _member(data.member).id, request_no=data.request_no)
    except (DomainError, sa.exc.IntegrityError):
        # A concurrent grant with this request_no may have won (its member counter or the unique request_no
        # refused this one): answer with it; otherwise the refusal stands.
        rollback()
        earlier = _granted(campaign_id, data.request_no)
        if earlier is not None:
            return jsonify(grant_json(earlier)), 200
        raise
    return jsonify(grant_json(coupon)), 201
