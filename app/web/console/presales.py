"""Pre-sales in the console (Area.CAMPAIGNS): campaigns with their deposits, balances and missed balances, the
editor (every rule refused in words), and a campaign's orders with their refund states. Thin:
app.presales.console does the work."""
from __future__ import annotations

from datetime import datetime

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from pydantic import Field, field_validator

from app.catalog import editing
from app.catalog.models import Product, Sku
from app.core.clock import now_utc, parse_instant
from app.core.database import rollback
from app.core.errors import DomainError
from app.core.i18n import N_
from app.core.money import parse_yuan
from app.core.schemas import FormInput, parse_form
from app.extensions import db
from app.merchants.models import Store
from app.merchants.permissions import Action, Area
from app.presales import console as ps
from app.presales.models import (
    MISSED_LABELS, PRESALE_LABELS, STATUS_LABELS, PresaleCampaign, CampaignStatus, MissedBalance, PresaleOrderStatus,
)
from app.web.console import bp
from app.web.console.guard import console_view, scope

REFUND_LABELS = {"pending": N_("待发送"), "processing": N_("处理中"), "succeeded": N_("已退款"), "failed": N_("退款失败")}


def _yuan(value):
    if value in (None, ""):
        return None
    try:
        return parse_yuan(value)
    except ValueError:
        raise ValueError("not an amount") from None


def _instant(value):
    return None if value in (None, "") else parse_instant(value)


def _optional_int(value):
    return None if value in (None, "") else value


class CampaignForm(FormInput):
    title: str = Field(min_length=1, max_length=60)
    sku_id: int = Field(ge=1, le=2**31 - 1)
    store_id: int = Field(ge=1, le=2**31 - 1)
    full_price: int = Field(ge=0)
    deposit: int = Field(ge=0)
    deposit_value: int = Field(ge=0)
    deposit_starts_at: datetime
    deposit_ends_at: datetime
    balance_starts_at: datetime
    balance_ends_at: datetime
    pickup_from: datetime | None = None
    pickup_after_days: int | None = Field(default=None, ge=0, le=365)
    stock_total: int = Field(ge=0, le=1_000_000)
    per_member_limit: int = Field(default=1, ge=1, le=99)
    missed_balance: MissedBalance = MissedBalance.FORFEIT
    coupons_on_balance: bool = False
    rules: str = Field(default="", max_length=2000)
    status: CampaignStatus = CampaignStatus.DRAFT

    _money = field_validator("full_price", "deposit", "deposit_value", mode="before")(_yuan)
    _times = field_validator("deposit_starts_at", "deposit_ends_at", "balance_starts_at", "balance_ends_at",
                             "pickup_from", mode="before")(_instant)
    _days = field_validator("pickup_after_days", mode="before")(_optional_int)

    def as_input(self, pickup: str) -> ps.CampaignInput:
        by_date = pickup != "days"
        return ps.CampaignInput(
            self.title, self.sku_id, self.store_id, self.full_price, self.deposit, self.deposit_value,
            self.deposit_starts_at, self.deposit_ends_at, self.balance_starts_at, self.balance_ends_at,
            self.pickup_from if by_date else None, None if by_date else self.pickup_after_days,
            self.stock_total, self.per_member_limit, self.missed_balance, self.coupons_on_balance, self.rules,
            self.status)


def _choices():
    skus = editing.skus_with_products(scope())
    stores = list(db.session.execute(scope().select(Store).order_by(Store.id)).scalars())
    return skus, stores


@bp.get("/presales")
@console_view(Area.CAMPAIGNS)
def presales():
    skus = {s.id: (s, p) for s, p in _choices()[0]}
    return render_template("console/presales.html", campaigns=ps.campaigns(scope()), counts=ps.counts(scope()),
                           skus=skus, labels=STATUS_LABELS, S=PresaleOrderStatus)


def _editor(campaign: PresaleCampaign | None, *, error: str | None = None, status: int = 200):
    skus, stores = _choices()
    return render_template("console/presale_form.html", campaign=campaign, skus=skus, stores=stores, error=error,
                           labels=STATUS_LABELS, missed_labels=MISSED_LABELS,
                           form=request.form if request.method == "POST" else None), status


def _save(campaign_id: int | None):
    try:
        data = {k: request.form.get(k) for k in request.form.keys()}
        data["coupons_on_balance"] = request.form.get("coupons_on_balance") == "1"
        form = parse_form(CampaignForm, data)
        campaign = ps.save_campaign(scope(), campaign_id, form.as_input(request.form.get("pickup", "date")))
    except DomainError as exc:
        if exc.status == 404:
            raise
        rollback()
        return _editor(db.session.get(PresaleCampaign, campaign_id) if campaign_id else None,
                       error=exc.message(g.lang), status=exc.status)
    return redirect(url_for("console.presale", presale_id=campaign.id), 303)


@bp.route("/presales/new", methods=["GET", "POST"])
@console_view(Area.CAMPAIGNS, Action.EDIT)
def presale_new():
    return _save(None) if request.method == "POST" else _editor(None)


@bp.route("/presales/<id:presale_id>/edit", methods=["GET", "POST"])
@console_view(Area.CAMPAIGNS, Action.EDIT)
def presale_edit(presale_id: int):
    campaign = scope().get(PresaleCampaign, presale_id)
    return _save(campaign.id) if request.method == "POST" else _editor(campaign)


@bp.get("/presales/<id:presale_id>")
@console_view(Area.CAMPAIGNS)
def presale(presale_id: int):
    campaign = scope().get(PresaleCampaign, presale_id)
    sku = db.session.get(Sku, campaign.sku_id)
    return render_template(
        "console/presale.html", c=campaign, sku=sku, product=db.session.get(Product, sku.product_id),
        store=db.session.get(Store, campaign.store_id), rows=ps.orders_of(scope(), campaign.id),
        counts=ps.counts(scope()).get(campaign.id, {}), labels=STATUS_LABELS, order_labels=PRESALE_LABELS,
        missed_labels=MISSED_LABELS, refund_labels=REFUND_LABELS, S=PresaleOrderStatus,
        demo=current_app.config["APP_ENV"] != "production")


@bp.post("/presales/<id:presale_id>/demo/<step>")
@console_view(Area.CAMPAIGNS, Action.EDIT)
def presale_demo(presale_id: int, step: str):
    """Demo only: open the balance window now, or close it now (a missed balance), without waiting for it."""
    if current_app.config["APP_ENV"] == "production" or step not in ("open-balance", "close-balance"):
        abort(404)
    campaign = scope().get(PresaleCampaign, presale_id)
    try:
        (ps.demo_open_balance if step == "open-balance" else ps.demo_close_balance)(scope(), campaign.id, now_utc())
    except DomainError as exc:
        rollback()
        flash(exc.message(g.lang))
    return redirect(url_for("console.presale", presale_id=campaign.id), 303)
