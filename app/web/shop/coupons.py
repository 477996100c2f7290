"""Coupon pages: 领券中心 (open campaigns, or those for one product), a campaign's page with 领取 (also what a
poster QR opens), the claim itself, and Me → 优惠券 (the member's coupons, each opening its voucher page)."""
from __future__ import annotations

from flask import current_app, flash, jsonify, redirect, render_template, request, url_for

from app.core.clock import iso, now_utc
from app.core.database import rollback
from app.core.errors import DomainError
from app.core.i18n import N_, current_lang
from app.coupons import campaigns, gifts, service
from app.coupons.errors import CouponNotFound
from app.coupons.models import CampaignStatus, Coupon
from app.coupons.claim import claim_row
from app.extensions import db
from app.vouchers import codes
from app.vouchers.tokens import make_holder_token
from app.web.converters import parse_id
from app.web.errors import render_error, wants_json
from app.web.shop import bp
from app.web.shop.session import current_member, member_required, merchant_by_slug, session_member_ids

CLAIMED = N_("领取成功")  # flashed, translated where shown
ACCEPTED = N_("已收下朋友送的券")


@bp.get("/m/<slug>/coupons")
def coupon_center(slug: str):
    merchant = merchant_by_slug(slug)
    now = now_utc()
    product_id = parse_id(request.args.get("product"))
    cards = [service.card(c, now) for c in service.open_campaigns(merchant.id, now, product_id=product_id)]
    return render_template("shop/coupons.html", merchant=merchant, cards=cards, product_id=product_id)


def _campaign_page(merchant, campaign_id: int, *, error: DomainError | None = None):
    campaign = campaigns.get(merchant.id, campaign_id)
    if campaign.status is CampaignStatus.DRAFT:
        raise CouponNotFound(zh="没有找到这个优惠券活动。", en="No such coupon campaign.")  # not public yet
    member = current_member(merchant.id)
    page = render_template("shop/campaign.html", merchant=merchant, card=service.card(campaign, now_utc()),
                           signed_in=member is not None,
                           error=error.message(current_lang()) if error else None)
    return page, error.status if error else 200


@bp.get("/m/<slug>/coupons/<id:campaign_id>")
def campaign_page(slug: str, campaign_id: int):
    return _campaign_page(merchant_by_slug(slug), campaign_id)


@bp.post("/m/<slug>/coupons/<id:campaign_id>/claim")
def claim_coupon(slug: str, campaign_id: int):
    # The flash-claim path: the campaign (by the shop's slug) in one query, the member in one, the claim in
    # one statement (PostgreSQL), the commit; nothing is read back.
    campaign, member = campaigns.by_slug(slug, campaign_id, session_member_ids())
    if member is None:
        # Sign in, then back to the campaign's page (a GET) to tap 领取 again.
        page = url_for("shop.campaign_page", slug=slug, campaign_id=campaign.id)
        return redirect(url_for("shop.signin", slug=slug, next=page))
    try:
        claimed = claim_row(campaign, member.id)
    except DomainError as refused:
        rollback()
        if wants_json():
            return render_error(refused)
        return _campaign_page(merchant_by_slug(slug), campaign_id, error=refused)
    if wants_json():  # a page's script (or a client) claiming: the coupon, no redirect
        return jsonify({"coupon": {"id": claimed.coupon_id, "code": codes.pretty(claimed.code),
                                   "campaign_id": campaign.id, "valid_until": iso(claimed.valid_until)}})
    flash(CLAIMED)
    return redirect(url_for("shop.my_coupons", slug=slug), 303)


@bp.get("/m/<slug>/me/coupons")
@member_required
def my_coupons(slug: str):
    merchant = merchant_by_slug(slug)
    member = current_member(merchant.id)
    secret = current_app.config["SECRET_KEY"]
    held = [(h, make_holder_token(secret, h.voucher.id), codes.pretty(h.voucher.code))
            for h in service.coupons_of(member.id, now_utc())]
    return render_template("shop/my_coupons.html", merchant=merchant, held=held)


# ---------------------------------------------------------------------------------------------- 转赠

@bp.post("/m/<slug>/me/coupons/<id:coupon_id>/gift")
@member_required
def gift_offer(slug: str, coupon_id: int):
    merchant = merchant_by_slug(slug)
    member = current_member(merchant.id)
    coupon = db.session.get(Coupon, coupon_id)
    if coupon is None or coupon.member_id != member.id:
        raise CouponNotFound()
    gift = gifts.offer(coupon, member.id, now=now_utc())
    return redirect(url_for("shop.gift_page", slug=merchant.slug, token=gift.token), 303)


@bp.get("/m/<slug>/gift/<token>")
def gift_page(slug: str, token: str, *, error: DomainError | None = None):
    merchant = merchant_by_slug(slug)
    gift = gifts.by_token(merchant.id, token)
    member = current_member(merchant.id)
    coupon = db.session.get(Coupon, gift.coupon_id)
    now = now_utc()
    return render_template(
        "shop/gift.html", merchant=merchant, gift=gift, status=gifts.status_of(gift, now).value,
        card=service.card(coupon.campaign, now), voucher=coupon.voucher, mine=member is not None and member.id == gift.giver_id,
        signed_in=member is not None, link=current_app.config["APP_BASE_URL"] + request.path,
        error=error.message(current_lang()) if error else None), (error.status if error else 200)


@bp.post("/m/<slug>/gift/<token>/accept")
def gift_accept(slug: str, token: str):
    merchant = merchant_by_slug(slug)
    gift = gifts.by_token(merchant.id, token)
    member = current_member(merchant.id)
    if member is None:
        page = url_for("shop.gift_page", slug=merchant.slug, token=token)
        return redirect(url_for("shop.signin", slug=merchant.slug, next=page))
    try:
        gifts.accept(gift, member.id, now=now_utc())
    except DomainError as refused:
        rollback()
        if wants_json():
            return render_error(refused)
        return gift_page(slug, token, error=refused)
    flash(ACCEPTED)
    return redirect(url_for("shop.my_coupons", slug=merchant.slug), 303)
