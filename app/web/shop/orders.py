"""Checkout, paying, the order page, cancel, refund and reviews (flow 2: pre-order for pickup).

Views parse the form, call orders.service / payments, and render or redirect. The one place that catches
a DomainError is the checkout POST: the shopper fixes the form (a pickup time, an address) and tries again.
"""
from __future__ import annotations

import secrets
from datetime import datetime

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, session, url_for

from app.catalog.models import Product
from app.core.clock import now_utc, parse_instant
from app.core.database import commit, rollback
from app.core.errors import BadRequest, DomainError
from app.core.schemas import parse_form
from app.core.i18n import N_, current_lang
from app.coupons import checkout as coupons
from app.extensions import db
from app.members.models import Member
from app.merchants import hours
from app.merchants.models import Merchant, Store
from app.groupbuys import service as groupbuys
from app.orders import progress as progress_
from app.orders import reviews
from app.orders import service as orders
from app.orders.models import Fulfilment, Order, OrderKind, OrderStatus, status_label_for
from app.payments.models import PayMethod
from app.payments import service as payments
from app.payments.providers import online_method
from app.presales import service as presales
from app.vouchers import codes
from app.vouchers.models import Voucher
from app.vouchers.service import effective_status
from app.vouchers.tokens import make_holder_token
from app.web.converters import parse_id
from app.web.errors import render_error, wants_json
from app.web.payments import checkout_for
from app.web.shop import bp
from app.web.shop.forms import RefundForm, ReviewForm
from app.web.shop.cart import buy_now_of, cart_of, clear_cart, end_buy_now, priced_cart
from app.web.shop.session import current_member, member_required, merchant_by_slug

REFUND_REASONS = ("不想要了", "买错了/买多了", "门店缺货", "无法按时取货", "其他")
DELIVERY_REFUND_REASONS = ("不想要了", "买错了/买多了", "门店缺货", "无法按时收货", "其他")
POLL_SECONDS = 5  # the order page asks /orders/<id>/status this often while something is still to happen

# What these pages show that is chosen at run time (order states, refund reasons, the history's notes,
# pickup days, flash messages): marked for `make i18n`, translated where shown (`_(label)` in the templates).
SHOWN_LABELS = (
    N_("待支付"), N_("待取货"), N_("待配送"), N_("已取货"), N_("已送达"), N_("已完成"), N_("已取消"), N_("已退款"),
    N_("退款处理中"), N_("退款失败"), N_("下单"), N_("已支付"), N_("今天"), N_("明天"), N_("后天"),
    N_("不想要了"), N_("买错了/买多了"), N_("门店缺货"), N_("无法按时取货"), N_("无法按时收货"), N_("其他"),
    N_("到店支付"), N_("货到付款"), N_("门店核销"), N_("送达核销"), N_("撤销核销"), N_("顾客取消"),
    N_("超时未支付，自动取消"), N_("订单已取消"), N_("退款申请已提交"), N_("感谢评价！"),
    N_("优惠券已退回，可再次使用"), N_("优惠券已过期，不予退回"),
    N_("待成团"), N_("拼团成功"),
)
COUPON_STATES = {"returned": "优惠券已退回，可再次使用", "not_returned": "优惠券已过期，不予退回"}


# ---------------------------------------------------------------------------------------------- helpers

def own_order(order_id: int) -> tuple[Order, Member]:
    """The order, when the signed-in member owns it; 404 for anyone else; sign-in first when nobody is."""
    order = db.session.get(Order, order_id)
    if order is None:
        abort(404)
    member = current_member(order.merchant_id)
    if member is None:
        merchant = db.session.get(Merchant, order.merchant_id)
        back = url_for("shop.order_page", order_id=order.id)
        abort(redirect(url_for("shop.signin", slug=merchant.slug, next=back)))
    if member.id != order.member_id:
        abort(404)
    return order, member


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def _pickup_at(value: str | None) -> datetime | None:
    if not value or value == "asap":
        return None
    try:
        return parse_instant(value)
    except ValueError:
        raise BadRequest(field="pickup_at", zh="取货时间有误。", en="Wrong pickup time.") from None


def _after_placing(order: Order) -> str:
    if order.status is OrderStatus.PENDING_PAYMENT:
        return url_for("shop.order_pay", order_id=order.id)
    return url_for("shop.order_page", order_id=order.id)


# ---------------------------------------------------------------------------------------------- checkout

@bp.route("/m/<slug>/checkout", methods=["GET", "POST"])
@member_required
def checkout(slug: str):
    merchant = merchant_by_slug(slug)
    member = current_member(merchant.id)
    if request.method == "POST":
        # A second tap on "提交订单" (or a reload of the POST) finds the order the first one placed.
        placed = session.get("placed") or {}
        nonce = request.form.get("nonce", "")
        if nonce and nonce in placed:
            order = db.session.get(Order, placed[nonce])
            if order is not None and order.member_id == member.id:
                return redirect(_after_placing(order))
    buy = request.values.get("buy", "")  # checkout?buy=<token>: a 立即购买 item alone, the cart left as it is
    cart = buy_now_of(merchant.id, buy) if buy else cart_of(merchant.id)
    if cart is None or not cart["lines"] or not cart["store"]:
        return redirect(url_for("shop.cart", slug=merchant.slug))
    store = db.session.get(Store, cart["store"])
    if store is None or store.merchant_id != merchant.id or not store.active:
        return redirect(url_for("shop.cart", slug=merchant.slug))
    online = online_method(current_app.config)
    error, status = None, 200
    if request.method == "POST":
        form = request.form
        try:
            fulfilment = Fulfilment.DELIVERY if form.get("fulfilment") == "delivery" else Fulfilment.PICKUP
            order = orders.place_order(
                merchant, store, member, [orders.LineRequest(s, q) for s, q in cart["lines"]],
                pay_method=PayMethod.STORE if form.get("pay") == "store" or online is None else online,
                fulfilment=fulfilment,
                pickup_at=_pickup_at(form.get("pickup_at")) if fulfilment is Fulfilment.PICKUP else None,
                delivery_address=form.get("delivery_address"), delivery_phone=form.get("delivery_phone"),
                delivery_lat=_float(form.get("lat")),
                delivery_lng=_float(form.get("lng")), note=(form.get("note") or "").strip(),
                coupon_id=parse_id(form.get("coupon")),
            )
        except DomainError as err:
            rollback()
            if wants_json():
                return render_error(err)
            error, status = err.to_dict(current_lang()), err.status
        else:
            if buy:
                end_buy_now(buy)
            else:
                clear_cart(merchant.id)
            session["placed"] = {nonce: order.id} if nonce else {}
            return redirect(_after_placing(order))
    priced = priced_cart(merchant, store, cart, member=member)
    if not priced.lines:
        return redirect(url_for("shop.cart", slug=merchant.slug))
    # The member's coupons that save something here, best first; the best is chosen unless they chose
    # another (?coupon=<id>) or none (?coupon=none).
    offers = coupons.options(member.id, merchant.id, store.id, [(l.sku, l.quantity) for l in priced.lines],
                             member=member, now=now_utc())
    asked = request.values.get("coupon")
    picked = None if asked == "none" else next(
        (o for o in offers if o.coupon.id == parse_id(asked)), offers[0] if offers else None)
    shown = picked.quote if picked else priced.quote
    return render_template(
        "shop/checkout.html", merchant=merchant, store=store, member=member, lines=priced.lines,
        total_fen=shown.payable_fen, list_total_fen=shown.list_total_fen,
        discounts=shown.discounts_by_kind(), offers=offers, picked=picked,
        online=online, error=error, form=request.form, pickup=hours.pickup_choices(store, now_utc(), merchant.pickup_slot_minutes),
        nonce=request.form.get("nonce") or secrets.token_urlsafe(12), buy=buy,
        field_errors={e["field"]: e["message"] for e in (error or {}).get("errors", [])},
    ), status


# ---------------------------------------------------------------------------------------------- paying

@bp.get("/orders/<id:order_id>/pay")
def order_pay(order_id: int):
    order, member = own_order(order_id)
    if orders.cancel_if_expired(order):
        commit()  # past its time and not yet swept by the job: cancel now rather than take late money
    if order.status is not OrderStatus.PENDING_PAYMENT or order.pay_method is PayMethod.STORE:
        return redirect(url_for("shop.order_page", order_id=order.id))
    payment, checkout_ = checkout_for(order, member)
    if checkout_.kind == "redirect":
        return redirect(checkout_.url)
    if checkout_.kind == "jsapi":
        merchant = db.session.get(Merchant, order.merchant_id)
        return render_template("shop/pay_wechat.html", order=order, merchant=merchant, payment=payment,
                               params=checkout_.params)
    return redirect(url_for("shop.order_page", order_id=order.id))


@bp.get("/orders/<id:order_id>/status")
def order_status(order_id: int):
    """Polled by the WeChat pay page until the payment notification has made the order ready, and by the
    order page while the order waits (payment, hand-over) or a refund is on its way."""
    order, _ = own_order(order_id)
    progress = progress_.refund_progress(payments.refunds_of(order.id))
    return jsonify({"id": order.id, "status": order.status.value, "label": progress_.headline(order, progress),
                    "refunding": progress.pending_fen > 0})


# ---------------------------------------------------------------------------------------------- the order

@bp.get("/orders/<id:order_id>")
def order_page(order_id: int):
    order, member = own_order(order_id)
    merchant = db.session.get(Merchant, order.merchant_id)
    store = db.session.get(Store, order.store_id)
    now = now_utc()
    voucher = db.session.get(Voucher, order.voucher_id) if order.voucher_id else None
    pickup = None
    if voucher is not None:
        pickup = {
            "voucher": voucher, "status": effective_status(voucher, now), "code": codes.pretty(voucher.code),
            "holder": make_holder_token(current_app.config["SECRET_KEY"], voucher.id),
            "rotating": merchant.rotate_qr and not voucher.static_qr,
        }
    seconds_left = None
    if order.status is OrderStatus.PENDING_PAYMENT and order.expires_at is not None:
        seconds_left = max(0, int((order.expires_at - now).total_seconds()))
    refunds = payments.refunds_of(order.id)
    progress = progress_.refund_progress(refunds)
    headline = progress_.headline(order, progress)
    labels = {s.value: status_label_for(s, order.fulfilment) for s in OrderStatus}
    labels[OrderStatus.REFUNDED.value] = headline if order.status is OrderStatus.REFUNDED else "已退款"
    events = [{"at": e.created_at, "status": e.status_after, "note": progress_.event_note(e, order)}
              for e in orders.timeline(order)]
    return render_template(
        "shop/order.html", order=order, member=member, merchant=merchant, store=store,
        steps=progress_.steps(order, progress), headline=headline, progress=progress,
        poll_seconds=POLL_SECONDS if progress_.still_moving(order, progress) else None,
        pickup=pickup, events=events, refunds=refunds,
        seconds_left=seconds_left, unpaid_at_store=progress_.unpaid_at_store(order),
        due_fen=order.total_fen - order.refunded_fen,
        can_pay=progress_.can_pay(order), can_cancel=progress_.can_cancel(order),
        can_refund=progress_.shopper_can_refund(order),
        reasons=DELIVERY_REFUND_REASONS if order.is_delivery else REFUND_REASONS,
        OrderStatus=OrderStatus, labels=labels, team=groupbuys.team_of_order(order.id) if order.kind is OrderKind.GROUPBUY else None,
        rotate_seconds=current_app.config["QR_ROTATE_SECONDS"],
        presale=presales.order_view(order, now) if order.is_presale else None,
        coupon_states=COUPON_STATES, coupon_state=coupons.state_on_order(
            order.id, [a.source for line in order.lines for a in line.adjustments],
            closed=order.status in (OrderStatus.CANCELLED, OrderStatus.REFUNDED)),
    )


@bp.post("/orders/<id:order_id>/cancel")
def order_cancel(order_id: int):
    order, _ = own_order(order_id)
    reason = (request.form.get("reason") or "").strip() or "顾客取消"
    orders.cancel(order, reason=reason[:255])
    flash("订单已取消")
    return redirect(url_for("shop.order_page", order_id=order.id))


@bp.post("/orders/<id:order_id>/refund")
def order_refund(order_id: int):
    """Full refund, or per line: fields qty_<line id>. A reason is required."""
    order, _ = own_order(order_id)
    if order.is_presale:
        raise BadRequest(field="order", zh="预售订单请联系门店退款。", en="Ask the store to refund a pre-sale order.")
    form = parse_form(RefundForm, request.form)
    if not form.full_reason:
        raise BadRequest(field="reason", zh="请选择退款原因。", en="Choose a reason for the refund.")
    quantities = {l.id: form.quantities[l.id] for l in order.lines if l.id in form.quantities}
    if not quantities or all(quantities.get(l.id) == l.open_quantity for l in order.lines):
        quantities = None  # the whole order
    orders.refund(order, reason=form.full_reason[:255], quantities=quantities)
    flash("退款申请已提交")
    return redirect(url_for("shop.order_page", order_id=order.id))


# ---------------------------------------------------------------------------------------------- reviews

@bp.route("/orders/<id:order_id>/review/<id:product_id>", methods=["GET", "POST"])
def order_review(order_id: int, product_id: int):
    order, member = own_order(order_id)
    line = next((l for l in order.lines if l.product_id == product_id), None)
    if line is None:
        abort(404)
    if not reviews.may_review(order):
        raise reviews.ReviewNotAllowed()
    merchant = db.session.get(Merchant, order.merchant_id)
    if request.method == "POST":
        form = parse_form(ReviewForm, request.form)
        reviews.write_review(order, member.id, product_id, rating=form.rating, body=form.body, now=now_utc())
        flash("感谢评价！")
        return redirect(url_for("shop.me", slug=merchant.slug))
    existing = reviews.review_of(order, product_id)
    product = db.session.get(Product, product_id)
    return render_template("shop/review.html", order=order, line=line, product=product, merchant=merchant,
                           existing=existing)
