"""Group-buy pages (flow 3): the campaign (开团: choose the pickup store, pay the group price), a team's share
page (anyone may open it; joining needs sign-in), join, leave. Views parse, call app.groupbuys, and
redirect to the ordinary pay page: a group-buy order is paid like any other."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for

from app.core.clock import now_utc
from app.core.database import rollback
from app.core.errors import BadRequest, DomainError
from app.core.i18n import N_, current_lang
from app.extensions import db
from app.catalog import snapshot
from app.groupbuys import pages
from app.groupbuys import service as groupbuys
from app.groupbuys.models import GroupBuyCampaign, CampaignStatus, Team
from app.payments.providers import online_method
from app.web.errors import wants_json
from app.web.shop import bp
from app.web.shop.session import current_member, member_required, merchant_by_slug
from app.web.shop.share import share_config

SHOWN_LABELS = (N_("待开团"), N_("拼团中"), N_("拼团成功"), N_("拼团失败"), N_("已关闭"), N_("已退出拼团"))


def _campaign(merchant, campaign_id: int) -> GroupBuyCampaign:
    campaign = db.session.get(GroupBuyCampaign, campaign_id)
    if campaign is None or campaign.merchant_id != merchant.id or campaign.status is CampaignStatus.DRAFT:
        abort(404)
    return campaign


def _team(merchant, team_id: int) -> Team:
    team = db.session.get(Team, team_id)
    if team is None or team.merchant_id != merchant.id:
        abort(404)
    return team


def _pay_method():
    method = online_method(current_app.config)
    if method is None:
        raise BadRequest(field="pay", zh="拼团须在线支付，本店暂未开通。", en="Group-buys are paid online, not offered here.")
    return method


def _refused(err: DomainError, back: str):
    """A refusal the shopper can act on: JSON for a script, else the sentence on the page they came from."""
    rollback()
    if wants_json():
        raise err
    flash(err.message(current_lang()))
    return redirect(back, 303)


def _photo(slug: str, product_id: int) -> str:
    """The product's cover URL as the shop shows it (the catalog snapshot's); empty when it is not on sale."""
    visit = snapshot.for_slug(slug)
    product = visit.catalog.product(product_id) if visit else None
    return product.image_url if product else ""


@bp.get("/m/<slug>/g/<id:campaign_id>")
def groupbuy_campaign(slug: str, campaign_id: int):
    merchant = merchant_by_slug(slug)
    campaign = _campaign(merchant, campaign_id)
    member = current_member(merchant.id)
    view = pages.campaign_view(campaign, now_utc())
    return render_template("shop/groupbuy.html", merchant=merchant, member=member, view=view,
                           photo=_photo(slug, view.product.id), teams=pages.forming_teams(campaign.id))


@bp.post("/m/<slug>/g/<id:campaign_id>/open")
@member_required
def groupbuy_open(slug: str, campaign_id: int):
    merchant = merchant_by_slug(slug)
    campaign = _campaign(merchant, campaign_id)
    member = current_member(merchant.id)
    back = url_for("shop.groupbuy_campaign", slug=slug, campaign_id=campaign.id)
    try:
        store_id = int(request.form.get("store_id", ""))
    except ValueError:
        store_id = 0
    try:
        _, order = groupbuys.open_team(campaign, member, store_id, pay_method=_pay_method())
    except DomainError as err:
        return _refused(err, back)
    return redirect(url_for("shop.order_pay", order_id=order.id), 303)


@bp.get("/m/<slug>/t/<id:team_id>")
def team_page(slug: str, team_id: int):
    merchant = merchant_by_slug(slug)
    team = _team(merchant, team_id)
    member = current_member(merchant.id)
    view = pages.team_view(team, member.id if member else None, now_utc())
    share_url = current_app.config["APP_BASE_URL"].rstrip("/") + url_for("shop.team_page", slug=slug, team_id=team.id)
    return render_template("shop/team.html", merchant=merchant, member=member, view=view, share_url=share_url,
                           photo=_photo(slug, view.info.product.id), wx_config=share_config(request.url))


@bp.post("/m/<slug>/t/<id:team_id>/join")
@member_required
def team_join(slug: str, team_id: int):
    merchant = merchant_by_slug(slug)
    team = _team(merchant, team_id)
    back = url_for("shop.team_page", slug=slug, team_id=team.id)
    try:
        order = groupbuys.join(team, current_member(merchant.id), pay_method=_pay_method())
    except DomainError as err:
        return _refused(err, back)
    return redirect(url_for("shop.order_pay", order_id=order.id), 303)


@bp.post("/m/<slug>/t/<id:team_id>/leave")
@member_required
def team_leave(slug: str, team_id: int):
    merchant = merchant_by_slug(slug)
    team = _team(merchant, team_id)
    back = url_for("shop.team_page", slug=slug, team_id=team.id)
    try:
        groupbuys.leave(team, current_member(merchant.id))
    except DomainError as err:
        return _refused(err, back)
    flash("已退出拼团")
    return redirect(back, 303)
