"""Group-buys in the console (Area.CAMPAIGNS): campaigns with their success rate, the editor, a campaign's
teams with members and refund states, the group-buy refunds not yet through (manual retry), and a demo-only
action that ends a team's time. Thin: app.groupbuys.console does the work."""
from __future__ import annotations

from datetime import datetime

from flask import abort, current_app, g, redirect, render_template, request, url_for
from pydantic import Field, field_validator

from app.catalog import editing
from app.catalog.models import Product, Sku
from app.core.clock import parse_instant
from app.core.database import rollback
from app.core.errors import BadRequest, DomainError
from app.core.i18n import N_
from app.core.money import parse_yuan
from app.core.schemas import FormInput, parse_form
from app.extensions import db
from app.groupbuys import console as gb
from app.groupbuys.models import TEAM_LABELS, GroupBuyCampaign, CampaignStatus, Team, TeamStatus
from app.merchants.models import Store
from app.merchants.permissions import Action, Area
from app.payments.models import Refund
from app.web.console import bp
from app.web.console.guard import console_view, scope

CAMPAIGN_LABELS = {CampaignStatus.DRAFT: N_("草稿"), CampaignStatus.ACTIVE: N_("进行中"), CampaignStatus.ENDED: N_("已停止")}
SEAT_LABELS = (N_("待支付"), N_("已支付"), N_("已退出"), N_("已释放"))
REFUND_LABELS = {"pending": N_("待发送"), "processing": N_("处理中"), "succeeded": N_("已退款"), "failed": N_("退款失败")}


def _yuan(value):
    if value in (None, ""):
        return None
    try:
        return parse_yuan(value)
    except ValueError:
        raise ValueError("not an amount") from None


def _instant(value):
    if value in (None, ""):
        return None
    return parse_instant(value)


class CampaignForm(FormInput):
    title: str = Field(min_length=1, max_length=60)
    sku_id: int = Field(ge=1, le=2**31 - 1)
    group_price: int = Field(ge=0)
    leader_price: int | None = Field(default=None, ge=0)
    team_size: int = Field(ge=2, le=10)
    time_limit_hours: int = Field(ge=1, le=24 * 30)
    starts_at: datetime
    ends_at: datetime
    stock_left: int = Field(ge=0, le=1_000_000)
    per_member_limit: int = Field(default=1, ge=1, le=99)
    store_ids: str = Field(default="", max_length=255)
    rules: str = Field(default="", max_length=2000)
    status: CampaignStatus = CampaignStatus.DRAFT

    _money = field_validator("group_price", "leader_price", mode="before")(_yuan)
    _times = field_validator("starts_at", "ends_at", mode="before")(_instant)

    def as_input(self) -> gb.CampaignInput:
        ids = [int(x) for x in self.store_ids.split(",") if x.strip().isdigit()]
        return gb.CampaignInput(self.title, self.sku_id, self.group_price, self.leader_price, self.team_size,
                                self.time_limit_hours, self.starts_at, self.ends_at, self.stock_left,
                                self.per_member_limit, ids, self.rules, self.status)


def _form_data():
    data = {k: request.form.get(k) for k in request.form.keys()}
    data["store_ids"] = ",".join(request.form.getlist("store_ids"))
    return data


def _choices():
    skus = editing.skus_with_products(scope())
    # A campaign is picked up at open stores only (app.groupbuys.console refuses a closed one).
    stores = list(db.session.execute(scope().select(Store).where(Store.active.is_(True)).order_by(Store.id)).scalars())
    return skus, stores


@bp.get("/groupbuys")
@console_view(Area.CAMPAIGNS)
def groupbuys():
    rows = gb.campaigns(scope())
    skus = {s.id: (s, p) for s, p in _choices()[0]}
    return render_template("console/groupbuys.html", campaigns=rows, rates=gb.success_rates(scope()), skus=skus,
                           labels=CAMPAIGN_LABELS, open_refunds=len(gb.open_refunds(scope())))


def _editor(campaign: GroupBuyCampaign | None, *, error: str | None = None, status: int = 200):
    skus, stores = _choices()
    return render_template("console/groupbuy_form.html", campaign=campaign, skus=skus, stores=stores, error=error,
                           labels=CAMPAIGN_LABELS, form=request.form if request.method == "POST" else None), status


def _save(campaign_id: int | None):
    try:
        form = parse_form(CampaignForm, _form_data())
        campaign = gb.save_campaign(scope(), campaign_id, form.as_input())
    except DomainError as exc:
        if exc.status == 404:
            raise
        rollback()
        return _editor(db.session.get(GroupBuyCampaign, campaign_id) if campaign_id else None,
                       error=exc.message(g.lang), status=exc.status)
    return redirect(url_for("console.groupbuy", groupbuy_id=campaign.id), 303)


@bp.route("/groupbuys/new", methods=["GET", "POST"])
@console_view(Area.CAMPAIGNS, Action.EDIT)
def groupbuy_new():
    return _save(None) if request.method == "POST" else _editor(None)


@bp.route("/groupbuys/<id:groupbuy_id>/edit", methods=["GET", "POST"])
@console_view(Area.CAMPAIGNS, Action.EDIT)
def groupbuy_edit(groupbuy_id: int):
    campaign = scope().get(GroupBuyCampaign, groupbuy_id)
    return _save(campaign.id) if request.method == "POST" else _editor(campaign)


@bp.get("/groupbuys/<id:groupbuy_id>")
@console_view(Area.CAMPAIGNS)
def groupbuy(groupbuy_id: int):
    campaign = scope().get(GroupBuyCampaign, groupbuy_id)
    status = request.args.get("status", "")
    sku = db.session.get(Sku, campaign.sku_id)
    return render_template(
        "console/groupbuy.html", campaign=campaign, sku=sku, product=db.session.get(Product, sku.product_id),
        teams=gb.teams(scope(), campaign.id, status), status=status, team_labels=TEAM_LABELS,
        statuses=list(TeamStatus), rate=gb.success_rates(scope()).get(campaign.id), labels=CAMPAIGN_LABELS,
        refund_labels=REFUND_LABELS, seat_label=gb.seat_label, demo=current_app.config["APP_ENV"] != "production",
        done=request.args.get("done"))


@bp.get("/groupbuys/refunds")
@console_view(Area.CAMPAIGNS)
def groupbuy_refunds():
    return render_template("console/groupbuy_refunds.html", rows=gb.open_refunds(scope()),
                           refund_labels=REFUND_LABELS, done=request.args.get("done"))


@bp.post("/groupbuys/refunds/<id:refund_id>/retry")
@console_view(Area.CAMPAIGNS, Action.EDIT)
def groupbuy_refund_retry(refund_id: int):
    scope().get(Refund, refund_id)
    gb.retry_refund(scope(), refund_id)
    return redirect(url_for("console.groupbuy_refunds", done="retry"), 303)


@bp.post("/groupbuys/teams/<id:team_id>/end-time")
@console_view(Area.CAMPAIGNS, Action.EDIT)
def groupbuy_team_end_time(team_id: int):
    """Demo only: a newcomer sees a team fail (and its refunds) without waiting for the deadline."""
    if current_app.config["APP_ENV"] == "production":
        abort(404)
    team = scope().get(Team, team_id)
    try:
        gb.end_team_time(scope(), team.id)
    except BadRequest:
        rollback()
    return redirect(url_for("console.groupbuy", groupbuy_id=team.campaign_id, done="ended"), 303)
