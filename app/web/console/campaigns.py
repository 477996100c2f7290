"""Campaigns (优惠券活动): list with figures (sort, page, CSV), view with its coupons, create and edit (owner,
operator), pause / resume / end, issue to a member or a phone number. A store manager views the campaigns
their store accepts."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Response, current_app, flash, g, redirect, render_template, request, url_for

from app.catalog.models import Category, Product, Sku
from app.core.database import rollback
from app.core.errors import DomainError
from app.core.i18n import N_
from app.core.schemas import parse
from app.core.clock import now_utc
from app.core.errors import BadRequest
from app.coupons import bulk, console, poster
from app.coupons.campaigns import LOCKED_FIELDS
from app.coupons.models import TYPE_LABELS, Campaign, CampaignStatus
from app.coupons.claim import sku_label
from app.coupons.rules import rule_text
from app.coupons.schemas import CampaignForm, form_data
from app.extensions import db
from app.merchants.models import Merchant, Store
from app.merchants.permissions import Action, Area
from app.reports.campaigns import figures
from app.vouchers import codes
from app.vouchers.service import effective_status
from app.web.console import bp
from app.web.console.guard import console_view, scope
from app.web.console.listing import csv_response, paginate
from app.web.converters import parse_id
from app.web.limits import accepts_uploads

SORTS = {"id": Campaign.id, "name": Campaign.name, "type": Campaign.type, "status": Campaign.status,
         "claimed": Campaign.claimed}
ISSUED = N_("已发放")  # flashed, translated where shown
ISSUED_N = N_("批量发放完成")


def _filtered():
    query = scope().select(Campaign)
    q = request.args.get("q", "").strip()
    if q:
        query = query.where(Campaign.name.contains(q))
    status = request.args.get("status")
    if status in {s.value for s in CampaignStatus}:
        query = query.where(Campaign.status == status)
    return query


@bp.get("/campaigns")
@console_view(Area.CAMPAIGNS)
def campaigns():
    page = paginate(_filtered(), SORTS, "id")
    return render_template("console/campaigns.html", page=page, figures=figures([c.id for c in page.rows]),
                           type_labels=TYPE_LABELS)


@bp.get("/campaigns.csv")
@console_view(Area.CAMPAIGNS)
def campaigns_csv():
    rows = list(db.session.execute(_filtered().order_by(Campaign.id)).scalars())
    f = figures([c.id for c in rows])
    return csv_response("campaigns.csv", ["id", "name", "type", "status", "rule", "quota", "claimed", "used_online",
                                          "used_counter", "redemption_rate", "discount_fen", "sales_fen"],
                        ([c.id, c.name, c.type.value, c.status.value, rule_text(c), c.quota, c.claimed,
                          f[c.id].used_online, f[c.id].used_counter,
                          "" if f[c.id].redemption_rate is None else f"{f[c.id].redemption_rate:.4f}",
                          f[c.id].discount_fen, f[c.id].sales_fen] for c in rows))


@bp.get("/campaigns/<id:campaign_id>")
@console_view(Area.CAMPAIGNS)
def campaign(campaign_id: int, *, error: str | None = None, status: int = 200):
    c = scope().get(Campaign, campaign_id)
    search = request.args.get("q", "")
    now = now_utc()
    issued = [(coupon, codes.pretty(coupon.voucher.code), effective_status(coupon.voucher, now))
              for coupon in console.coupons_of(scope(), c.id, search=search)]
    return render_template("console/campaign.html", c=c, f=figures([c.id])[c.id], rule=rule_text(c, sku_label(c)),
                           png_has_name=poster.png_has_name(),
                           issued=issued, search=search, type_labels=TYPE_LABELS, error=error), status


def _choices() -> dict:
    s = scope()
    skus = db.session.execute(
        sa.select(Sku.id, Product.name, Sku.name).join(Sku.product).where(Product.merchant_id == s.merchant_id)
        .order_by(Product.id, Sku.id)).all()

    def pairs(model, *, order):
        return db.session.execute(sa.select(model.id, model.name).where(model.merchant_id == s.merchant_id)
                                  .order_by(order)).all()

    return {
        "stores": pairs(Store, order=Store.id), "products": pairs(Product, order=Product.id),
        "categories": pairs(Category, order=Category.id),
        "skus": [(sku_id, f"{p}（{n}）") for sku_id, p, n in skus],
        "type_labels": TYPE_LABELS, "locked_fields": LOCKED_FIELDS,
    }


def _form_page(c: Campaign | None, error: DomainError | None = None):
    return render_template("console/campaign_form.html", c=c, error=error.message(g.lang) if error else None,
                           error_field=(error.details.get("field") if error else None), **_choices()), \
        (error.status if error else 200)


@bp.route("/campaigns/new", methods=["GET", "POST"])
@console_view(Area.CAMPAIGNS, Action.EDIT)
def campaign_new():
    if request.method == "POST":
        try:
            created = console.create(scope(), parse(CampaignForm, form_data(request.form)).spec())
        except DomainError as exc:
            rollback()
            return _form_page(None, exc)
        return redirect(url_for("console.campaign", campaign_id=created.id))
    return _form_page(None)


@bp.route("/campaigns/<id:campaign_id>/edit", methods=["GET", "POST"])
@console_view(Area.CAMPAIGNS, Action.EDIT)
def campaign_edit(campaign_id: int):
    c = scope().get(Campaign, campaign_id)
    if request.method == "POST":
        try:
            console.update(scope(), campaign_id, parse(CampaignForm, form_data(request.form)).spec())
        except DomainError as exc:
            rollback()
            return _form_page(scope().get(Campaign, campaign_id), exc)
        return redirect(url_for("console.campaign", campaign_id=campaign_id))
    return _form_page(c)


def _status(campaign_id: int, action: str):
    try:
        console.set_status(scope(), campaign_id, action)
    except DomainError as exc:
        rollback()
        return campaign(campaign_id, error=exc.message(g.lang), status=exc.status)
    return redirect(url_for("console.campaign", campaign_id=campaign_id))


@bp.post("/campaigns/<id:campaign_id>/pause")
@console_view(Area.CAMPAIGNS, Action.EDIT)
def campaign_pause(campaign_id: int):
    return _status(campaign_id, "pause")


@bp.post("/campaigns/<id:campaign_id>/resume")
@console_view(Area.CAMPAIGNS, Action.EDIT)
def campaign_resume(campaign_id: int):
    return _status(campaign_id, "resume")


@bp.post("/campaigns/<id:campaign_id>/end")
@console_view(Area.CAMPAIGNS, Action.EDIT)
def campaign_end(campaign_id: int):
    return _status(campaign_id, "end")


@bp.post("/campaigns/<id:campaign_id>/issue")
@console_view(Area.CAMPAIGNS, Action.EDIT)
def campaign_issue(campaign_id: int):
    scope().get(Campaign, campaign_id)
    try:
        console.issue(scope(), campaign_id, member_id=parse_id(request.form.get("member_id")),
                      phone=(request.form.get("phone") or "").strip() or None)
    except DomainError as exc:
        rollback()
        return campaign(campaign_id, error=exc.message(g.lang), status=exc.status)
    flash(ISSUED)
    return redirect(url_for("console.campaign", campaign_id=campaign_id))


@bp.post("/campaigns/<id:campaign_id>/issue-csv")
@console_view(Area.CAMPAIGNS, Action.EDIT)
@accepts_uploads
def campaign_issue_csv(campaign_id: int):
    """Step 1: the uploaded CSV (phone numbers in the first column) and what would happen to each row."""
    c = scope().get(Campaign, campaign_id)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return campaign(campaign_id, error=BadRequest(field="file", zh="请选择 CSV 文件。", en="Choose a CSV file.").message(g.lang),
                        status=400)
    rows = bulk.preview(c, bulk.read_phones(upload.read()), now=now_utc())
    return render_template("console/campaign_issue_preview.html", c=c, rows=rows, verdicts=bulk.VERDICTS,
                           issuable=[r.phone for r in rows if r.ok])


@bp.post("/campaigns/<id:campaign_id>/issue-csv/confirm")
@console_view(Area.CAMPAIGNS, Action.EDIT)
def campaign_issue_csv_confirm(campaign_id: int):
    """Step 2: issue to the rows the preview passed (each still decided by the claim)."""
    c = scope().get(Campaign, campaign_id)
    wanted = [p for p in request.form.getlist("phone") if p.strip()][:bulk.MAX_ROWS]
    if not wanted:
        return campaign(campaign_id, error=BadRequest(field="phone", zh="没有可发放的手机号。",
                                                      en="No phone numbers to issue to.").message(g.lang), status=400)
    issued, refused = bulk.issue(scope(), c, wanted)
    flash(ISSUED_N)
    return redirect(url_for("console.campaign", campaign_id=campaign_id, issued=issued, refused=len(refused)))


@bp.post("/campaigns/<id:campaign_id>/coupons/<id:coupon_id>/revoke")
@console_view(Area.CAMPAIGNS, Action.EDIT)
def campaign_coupon_revoke(campaign_id: int, coupon_id: int):
    try:
        console.revoke(scope(), campaign_id, coupon_id, reason=request.form.get("reason", ""))
    except DomainError as exc:
        rollback()
        if exc.status == 404:
            raise
        return campaign(campaign_id, error=exc.message(g.lang), status=exc.status)
    return redirect(url_for("console.campaign", campaign_id=campaign_id))


def _poster_content(c: Campaign) -> str:
    merchant = db.session.get(Merchant, c.merchant_id)
    return current_app.config["APP_BASE_URL"] + url_for("shop.campaign_page", slug=merchant.slug, campaign_id=c.id)


@bp.get("/campaigns/<id:campaign_id>/poster.png")
@console_view(Area.CAMPAIGNS)
def campaign_poster_png(campaign_id: int):
    c = scope().get(Campaign, campaign_id)
    response = Response(poster.png(_poster_content(c), c.name), mimetype="image/png")
    response.headers["Content-Disposition"] = f"attachment; filename=campaign-{c.id}-poster.png"
    return response


@bp.get("/campaigns/<id:campaign_id>/poster.svg")
@console_view(Area.CAMPAIGNS)
def campaign_poster_svg(campaign_id: int):
    c = scope().get(Campaign, campaign_id)
    response = Response(poster.svg(_poster_content(c), c.name), mimetype="image/svg+xml")
    response.headers["Content-Disposition"] = f"attachment; filename=campaign-{c.id}-poster.svg"
    return response


@bp.get("/campaigns/preview")
@console_view(Area.CAMPAIGNS, Action.EDIT)
def campaign_preview():
    """The consumer's coupon card for the editor's current values (htmx, as the owner types): the rule is
    worded by the same `rules.rule_text` as the shop; a value that does not parse yet shows why."""
    try:
        spec = parse(CampaignForm, form_data(request.args)).spec()
    except DomainError as exc:
        return render_template("console/_campaign_preview.html", card=None, error=exc.message(g.lang))
    draft = Campaign(**{k: getattr(spec, k) for k in console.FIELDS if k != "status"}, id=0)
    draft.store_links, draft.product_links, draft.category_links = [], [], []
    return render_template("console/_campaign_preview.html", card=draft, rule=rule_text(draft, sku_label(draft)),
                           error=None)
