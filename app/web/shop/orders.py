"""Checkout, paying, the order page, cancel, refund and reviews (flow 2: pre-order for pickup).

Views parse the form, call orders.service / payments, and render or redirect. The one place that catches
a DomainError is the checkout POST: the shopper fixes the form (a pickup time, an address) and tries again.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, session, url_for

from app.catalog.models import Product
from app.core import i18n
from app.core.clock import SHANGHAI, now_utc, parse_instant, shanghai_today
from app.core.database import commit, rollback
from app.core.errors import BadRequest, DomainError
from app.core.i18n import current_lang
from app.extensions import db
from app.members.models import Member
from app.merchants.models import Merchant, Store
from app.orders import progress as progress_
from app.orders import reviews
from app.orders import service as orders
from app.orders.models import Fulfilment, Order, OrderStatus, status_label_for
from app.payments.models import PayMethod
from app.payments import service as payments
from app.payments.providers import online_method
from app.vouchers import codes
from app.vouchers.models import Voucher
from app.vouchers.service import effective_status
from app.vouchers.tokens import make_holder_token
from app.web.errors import render_error, wants_json
from app.web.payments import checkout_for
from app.web.shop import bp
from app.web.shop.cart import buy_now_of, cart_of, clear_cart, end_buy_now, priced_cart
from app.web.shop.session import current_member, member_required, merchant_by_slug

SLOT_MINUTES = 30
SLOT_LEAD = timedelta(minutes=15)  # the earliest slot leaves the store this long to prepare
REFUND_REASONS = ("不想要了", "买错了/买多了", "门店缺货", "无法按时取货", "其他")
DELIVERY_REFUND_REASONS = ("不想要了", "买错了/买多了", "门店缺货", "无法按时收货", "其他")
POLL_SECONDS = 5  # the order page asks /orders/<id>/status this often while something is still to happen

i18n.register({
    "确认订单": "Confirm order",
    "提交订单": "Place order",
    "取货方式": "How to get it",
    "到店自提": "Pick up in store",
    "门店配送": "Store delivery",
    "取货时间": "Pickup time",
    "尽快（约 15 分钟）": "As soon as possible (about 15 min)",
    "今天": "Today",
    "明天": "Tomorrow",
    "配送地址": "Delivery address",
    "街道、门牌号、楼层": "Street, number, floor",
    "使用当前位置": "Use my location",
    "正在获取位置…": "Locating…",
    "已获取位置": "Location found",
    "无法获取位置，请允许定位后重试。": "Could not get your location; allow location access and retry.",
    "配送范围 {m} 米内": "Delivers within {m} m",
    "支付方式": "Payment",
    "微信支付": "WeChat Pay",
    "模拟支付（沙箱）": "Simulated payment (sandbox)",
    "到店支付": "Pay at the store",
    "取货时付款": "Pay when you pick up",
    "送达时付款": "Pay when it arrives",
    "备注": "Note",
    "选填，如少冰、加热": "Optional, e.g. less ice, warmed up",
    "商品金额": "Items",
    "会员优惠": "Member saving",
    "应付": "To pay",
    "实付": "Paid",
    "合计": "Total",
    "订单详情": "Order",
    "订单号": "Order no.",
    "下单": "Placed",
    "已支付": "Paid",
    "待取货": "Ready for pickup",
    "已取货": "Picked up",
    "已完成": "Completed",
    "已取消": "Cancelled",
    "已退款": "Refunded",
    "待支付": "Awaiting payment",
    "去支付": "Pay now",
    "取消订单": "Cancel order",
    "确定取消这个订单吗？": "Cancel this order?",
    "{m} 分钟内未支付，订单将自动取消": "Unpaid orders are cancelled automatically in {m} min",
    "剩余支付时间": "Time left to pay",
    "支付已超时，订单即将自动取消": "Payment time is up; the order will be cancelled",
    "取货码": "Pickup code",
    "向店员出示二维码，或报出取货码": "Show the QR to the cashier, or read out the code",
    "二维码每分钟自动刷新，截图无效": "The QR refreshes every minute; screenshots stop working",
    "查看券详情": "Voucher details",
    "到店支付 ¥{amount}": "Pay ¥{amount} at the store",
    "申请退款": "Request a refund",
    "退款原因": "Reason",
    "退款数量": "Quantity to refund",
    "提交退款": "Submit refund",
    "补充说明（选填）": "More details (optional)",
    "退款记录": "Refunds",
    "退款中": "Refund in progress",
    "退款成功": "Refunded",
    "退款失败，请联系门店": "Refund failed; contact the store",
    "已退 {n} 件": "{n} refunded",
    "订单记录": "History",
    "门店": "Store",
    "配送至": "Deliver to",
    "联系电话": "Phone",
    "门店配送时联系你": "The store calls this number about the delivery",
    "距离门店 {m} 米": "{m} m from the store",
    "取货凭证": "Pickup voucher",
    "取货凭证已作废": "The pickup voucher is void",
    "返回": "Back",
    "我的订单": "My orders",
    "正在等待支付结果…": "Waiting for the payment result…",
    "支付已取消": "Payment cancelled",
    "支付失败，请重试": "Payment failed; try again",
    "请在微信中打开此页面完成支付": "Open this page in WeChat to pay",
    "重新支付": "Pay again",
    "查看订单": "View order",
    "微信支付 ¥{amount}": "WeChat Pay ¥{amount}",
    "评价商品": "Review",
    "评分": "Rating",
    "说说你的感受": "Tell us what you think",
    "提交评价": "Submit review",
    "你已评价过这个商品": "You have reviewed this product",
    "感谢评价！": "Thanks for your review!",
    # delivery orders (门店配送) read their states and voucher differently
    "待配送": "Awaiting delivery",
    "已送达": "Delivered",
    "收货凭证": "Delivery voucher",
    "收货码": "Delivery code",
    "配送员送达时出示二维码，或报出收货码": "Show the QR to the courier on arrival, or read out the code",
    "送达时支付 ¥{amount}": "Pay ¥{amount} on delivery",
    "货到付款": "Pay on delivery",
    "无法按时收货": "Cannot receive it in time",
    "送达核销": "Redeemed on delivery",
    "门店核销": "Redeemed at the store",
    "撤销核销": "Redemption undone",
    # refunds are moved by a background job after they are recorded
    "退款处理中": "Refund in progress",
    "退款失败": "Refund failed",
    "退款 ¥{amount} 处理中，将原路退回": "Refund of ¥{amount} in progress; it goes back the way you paid",
    "退款 ¥{amount} 未成功，请联系门店": "Refund of ¥{amount} did not go through; contact the store",
    "确定提交退款吗？提交后不能撤销。": "Submit this refund? It cannot be undone.",
    "确定": "OK",
    "暂不取消": "Keep the order",
    "不想要了": "Changed my mind",
    "买错了/买多了": "Ordered by mistake / too many",
    "门店缺货": "Out of stock at the store",
    "无法按时取货": "Cannot pick up in time",
    "其他": "Other",
    "退款申请已提交": "Refund requested",
    "订单已取消": "Order cancelled",
    "顾客取消": "Cancelled by customer",
    "尽快": "As soon as possible",
    "营业时间": "Opening hours",
    "会员价已生效": "Member prices applied",
    "{n} 件商品": "{n} items",
})


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


def pickup_slots(store: Store, now: datetime) -> list[tuple[str, list[tuple[str, str]]]]:
    """Every 30 minutes within the store's hours today and tomorrow (Asia/Shanghai), from now + 15 min:
    [(day label, [(ISO value with +08:00, "HH:MM"), ...]), ...]."""
    earliest = now + SLOT_LEAD
    days = []
    today = shanghai_today(now)
    for offset, label in ((0, "今天"), (1, "明天")):
        day = today + timedelta(days=offset)
        opens = datetime.combine(day, store.opens_at, tzinfo=SHANGHAI)
        closes = datetime.combine(day, store.closes_at, tzinfo=SHANGHAI)
        t = opens.replace(minute=opens.minute - opens.minute % SLOT_MINUTES, second=0, microsecond=0)
        if t < opens:
            t += timedelta(minutes=SLOT_MINUTES)
        slots = []
        while t <= closes:
            if t >= earliest:
                slots.append((t.isoformat(), f"{t:%H:%M}"))
            t += timedelta(minutes=SLOT_MINUTES)
        if slots:
            days.append((label, slots))
    return days


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
    return render_template(
        "shop/checkout.html", merchant=merchant, store=store, member=member, lines=priced.lines,
        total_fen=priced.quote.payable_fen, list_total_fen=priced.quote.list_total_fen,
        discounts=priced.quote.discounts_by_kind(),
        slots=pickup_slots(store, now_utc()), online=online, error=error, form=request.form,
        nonce=request.form.get("nonce") or secrets.token_urlsafe(12), buy=buy,
        field_errors={e["field"]: e["message"] for e in (error or {}).get("errors", [])},
    ), status


# ---------------------------------------------------------------------------------------------- paying

@bp.get("/orders/<int:order_id>/pay")
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


@bp.get("/orders/<int:order_id>/status")
def order_status(order_id: int):
    """Polled by the WeChat pay page until the payment notification has made the order ready, and by the
    order page while the order waits (payment, hand-over) or a refund is on its way."""
    order, _ = own_order(order_id)
    progress = progress_.refund_progress(payments.refunds_of(order.id))
    return jsonify({"id": order.id, "status": order.status.value, "label": progress_.headline(order, progress),
                    "refunding": progress.pending_fen > 0})


# ---------------------------------------------------------------------------------------------- the order

@bp.get("/orders/<int:order_id>")
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
        can_refund=progress_.can_refund(order),
        reasons=DELIVERY_REFUND_REASONS if order.is_delivery else REFUND_REASONS,
        OrderStatus=OrderStatus, labels=labels,
        rotate_seconds=current_app.config["QR_ROTATE_SECONDS"],
    )


@bp.post("/orders/<int:order_id>/cancel")
def order_cancel(order_id: int):
    order, _ = own_order(order_id)
    reason = (request.form.get("reason") or "").strip() or "顾客取消"
    orders.cancel(order, reason=reason[:255])
    flash("订单已取消")
    return redirect(url_for("shop.order_page", order_id=order.id))


@bp.post("/orders/<int:order_id>/refund")
def order_refund(order_id: int):
    """Full refund, or per line: fields qty_<line id>. A reason is required."""
    order, _ = own_order(order_id)
    reason = (request.form.get("reason") or "").strip()
    detail = (request.form.get("detail") or "").strip()
    if reason == "其他" and detail:
        reason = detail
    elif detail:
        reason = f"{reason}：{detail}"
    if not reason:
        raise BadRequest(field="reason", zh="请选择退款原因。", en="Choose a reason for the refund.")
    quantities = {}
    for line in order.lines:
        raw = request.form.get(f"qty_{line.id}")
        if raw is None:
            continue
        try:
            quantities[line.id] = int(raw)
        except ValueError:
            raise BadRequest(field="lines", zh="退款数量有误。", en="Wrong refund quantity.") from None
    if not quantities or all(quantities.get(l.id) == l.open_quantity for l in order.lines):
        quantities = None  # the whole order
    orders.refund(order, reason=reason[:255], quantities=quantities)
    flash("退款申请已提交")
    return redirect(url_for("shop.order_page", order_id=order.id))


# ---------------------------------------------------------------------------------------------- reviews

@bp.route("/orders/<int:order_id>/review/<int:product_id>", methods=["GET", "POST"])
def order_review(order_id: int, product_id: int):
    order, member = own_order(order_id)
    line = next((l for l in order.lines if l.product_id == product_id), None)
    if line is None:
        abort(404)
    if not reviews.may_review(order):
        raise reviews.ReviewNotAllowed()
    merchant = db.session.get(Merchant, order.merchant_id)
    if request.method == "POST":
        try:
            rating = int(request.form.get("rating", ""))
        except ValueError:
            rating = 0
        reviews.write_review(order, member.id, product_id, rating=rating, body=request.form.get("body") or "",
                             now=now_utc())
        flash("感谢评价！")
        return redirect(url_for("shop.me", slug=merchant.slug))
    existing = reviews.review_of(order, product_id)
    product = db.session.get(Product, product_id)
    return render_template("shop/review.html", order=order, line=line, product=product, merchant=merchant,
                           existing=existing)
