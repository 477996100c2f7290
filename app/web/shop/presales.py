"""Pre-sale pages (flow 4): the campaign with its rules in full before paying (deposit, its value, the
balance, both windows, pickup, what happens to the deposit when the balance is missed), paying the deposit,
and paying the balance in its window. Views parse, call app.presales, and hand over to the ordinary pay
page: each part of a pre-sale order is paid like any other payment."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for

from app.catalog import snapshot
from app.core.clock import now_utc
from app.core.database import commit, rollback
from app.core.errors import BadRequest, DomainError
from app.core.i18n import N_, current_lang
from app.extensions import db
from app.merchants.models import Merchant
from app.orders.models import Order, OrderStatus
from app.payments.providers import online_method
from app.presales import service as presales
from app.web.errors import wants_json
from app.web.payments import checkout_for
from app.web.shop import bp
from app.web.shop.orders import own_order
from app.web.shop.session import current_member, member_required, merchant_by_slug

SHOWN_LABELS = (N_("待付尾款"), N_("已付定金"), N_("未按时支付尾款，定金原路退回"), N_("未按时支付尾款，定金不退"))


def cards(catalog, merchant_id: int, product_id: int) -> list[presales.Card]:
    """The product page's pre-sales, read once per catalog snapshot (a campaign saved in the console gives
    the merchant a new rev), those still taking or about to take deposits now."""
    now = now_utc()
    found = catalog.memo(("presales", product_id), lambda: presales.cards_for_product(merchant_id, product_id))
    return [c for c in found if c.deposit_ends_at > now]


def _refused(err: DomainError, back: str):
    rollback()
    if wants_json():
        raise err
    flash(err.message(current_lang()))
    return redirect(back, 303)


@bp.get("/m/<slug>/presale/<id:campaign_id>")
def presale_page(slug: str, campaign_id: int):
    merchant = merchant_by_slug(slug)
    try:
        c = presales.active_campaign(merchant.id, campaign_id)
    except DomainError:
        abort(404)
    member = current_member(merchant.id)
    now = now_utc()
    visit = snapshot.for_slug(slug)
    product = next((p for p in visit.catalog.products for s in p.skus if s.id == c.sku_id), None) if visit else None
    return render_template(
        "shop/presale.html", merchant=merchant, c=c, rules=presales.rules_of(c), product=product,
        member=member, taking=presales.taking_deposits(c, now), stock_left=c.stock_left,
        taken=presales.taken_by(c.id, member.id) if member else 0, not_yet=now < c.deposit_starts_at,
        signin_url=url_for("shop.signin", slug=merchant.slug, next=request.path) if member is None else None)


@bp.post("/m/<slug>/presale/<id:campaign_id>")
@member_required
def presale_deposit(slug: str, campaign_id: int):
    merchant = merchant_by_slug(slug)
    member = current_member(merchant.id)
    back = url_for("shop.presale_page", slug=slug, campaign_id=campaign_id)
    try:
        if request.form.get("agree") != "1":
            raise BadRequest(field="agree", zh="请先阅读并同意预售规则。", en="Read and accept the pre-sale rules first.")
        try:
            quantity = int(request.form.get("quantity") or 1)
        except ValueError:
            raise BadRequest(field="quantity", zh="数量有误。", en="Wrong quantity.") from None
        method = online_method(current_app.config)
        if method is None:
            raise BadRequest(field="pay", zh="预售定金须在线支付，本店暂未开通。",
                             en="Pre-sale deposits are paid online, not offered here.")
        order = presales.place_deposit(merchant, member, campaign_id, quantity=quantity, pay_method=method,
                                       now=now_utc())
        commit()
    except DomainError as err:
        if err.status == 404:
            raise
        return _refused(err, back)
    return redirect(url_for("shop.order_pay", order_id=order.id), 303)


@bp.get("/orders/<id:order_id>/balance")
def presale_balance(order_id: int):
    """Pays a pre-sale's balance: only while its window is open (otherwise the order page says when)."""
    order, member = own_order(order_id)
    back = url_for("shop.order_page", order_id=order.id)
    if order.status is not OrderStatus.DEPOSIT_PAID:
        return redirect(back)
    try:
        payment, checkout_ = checkout_for(order, member)
    except DomainError as err:
        return _refused(err, back)
    if checkout_.kind == "redirect":
        return redirect(checkout_.url)
    if checkout_.kind == "jsapi":
        merchant = db.session.get(Merchant, order.merchant_id)
        return render_template("shop/pay_wechat.html", order=order, merchant=merchant, payment=payment,
                               params=checkout_.params)
    return redirect(back)


@bp.post("/orders/<id:order_id>/balance/coupon")
def presale_balance_coupon(order_id: int):
    """Uses one of the member's coupons on the balance (when the campaign allows it), then pays what is left."""
    order, member = own_order(order_id)
    back = url_for("shop.order_page", order_id=order.id)
    try:
        coupon_id = int(request.form.get("coupon") or 0)
        presales.use_coupon_on_balance(order, member, coupon_id, now_utc())
        commit()
    except ValueError:
        return _refused(BadRequest(field="coupon", zh="请选择优惠券。", en="Choose a coupon."), back)
    except DomainError as err:
        if err.status == 404:
            raise
        return _refused(err, back)
    order = db.session.get(Order, order_id)
    if order.status is OrderStatus.DEPOSIT_PAID:
        return redirect(url_for("shop.presale_balance", order_id=order.id), 303)
    return redirect(back, 303)
