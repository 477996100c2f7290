"""Orders: search and filter (sort, page, CSV), the detail page (lines, discounts, payments, refunds,
timeline, pickup vouchers) and a refund whole or by line. Owners and operators: every store; a store
manager: their own store's orders (app.orders.console registers the scope rules)."""
from __future__ import annotations

from flask import g, redirect, render_template, request, url_for

from app.core.clock import format_shanghai
from app.core.database import rollback
from app.core.errors import DomainError
from app.core.i18n import N_
from app.core.money import yuan
from app.core.schemas import parse_form
from app.extensions import db
from app.merchants.permissions import Action, Area
from app.orders import console as console_orders
from app.orders.models import STATUS_LABELS, Order, OrderStatus, status_label_for
from app.payments.models import Refund
from app.vouchers import codes
from app.web.console import bp
from app.web.console.forms import ConsoleRefundForm, OrderArgs
from app.web.console.guard import console_view, scope
from app.web.console.listing import csv_response, paginate, visible_stores

SORTS = {"id": Order.id, "created": Order.created_at, "paid": Order.paid_at, "total": Order.total_fen,
         "status": Order.status, "store": Order.store_id}
PAY_LABELS = {"wechat": N_("微信支付"), "sandbox": N_("模拟支付"), "store": N_("到店支付")}
DATE_LABELS = {"created": N_("下单时间"), "paid": N_("支付时间"), "picked_up": N_("取货时间"), "refunded": N_("退款时间")}


def _filter() -> console_orders.OrderFilter:
    a = parse_form(OrderArgs, request.args)
    return console_orders.OrderFilter(q=a.q, store_id=a.store, status=a.status, on=a.on, day_from=a.day_from,
                                      day_to=a.day_to, pay_method=a.pay)


@bp.get("/orders")
@console_view(Area.ORDERS)
def orders():
    page = paginate(console_orders.search(scope(), _filter()), SORTS, "id", scalars=False, default_desc=True)
    return render_template("console/orders.html", page=page, stores=visible_stores(), status_labels=STATUS_LABELS,
                           pay_labels=PAY_LABELS, date_labels=DATE_LABELS)


@bp.get("/orders.csv")
@console_view(Area.ORDERS)
def orders_csv():
    rows = db.session.execute(console_orders.search(scope(), _filter()).order_by(Order.id.desc()))
    at = lambda value: format_shanghai(value, "yyyy-MM-dd HH:mm:ss")  # noqa: E731
    return csv_response("orders.csv", ["id", "number", "store", "member", "status", "pay_method", "fulfilment",
                                       "list_total_yuan", "total_yuan", "refunded_yuan", "created_at", "paid_at",
                                       "picked_up_at", "refunded_at"],
                        ([o.id, o.number, s.name, m.display_name, o.status.value, o.pay_method.value,
                          o.fulfilment.value, yuan(o.list_total_fen), yuan(o.total_fen), yuan(o.refunded_fen),
                          at(o.created_at), at(o.paid_at), at(o.picked_up_at), at(o.refunded_at)]
                         for o, m, s in rows))


def _detail_page(order_id: int, *, error: str | None = None, status: int = 200):
    d = console_orders.detail(scope(), order_id)
    labels = {st.value: status_label_for(st, d.order.fulfilment) for st in OrderStatus}
    return render_template("console/order.html", d=d, error=error, pay_labels=PAY_LABELS, order_labels=labels,
                           pretty_code=codes.pretty, done=request.args.get("done")), status


@bp.get("/orders/<id:order_id>")
@console_view(Area.ORDERS)
def order(order_id: int):
    return _detail_page(order_id)


def _act_on_order(order_id: int, act, done: str):
    """Does `act()`; back to the order page saying `done`, or the page again with the refusal's sentence."""
    try:
        act()
    except DomainError as exc:
        if exc.status == 404:
            raise
        rollback()
        return _detail_page(order_id, error=exc.message(g.lang), status=exc.status)
    return redirect(url_for("console.order", order_id=order_id, done=done))


@bp.post("/orders/<id:order_id>/refund")
@console_view(Area.ORDERS, Action.EDIT)
def order_refund(order_id: int):
    scope().get(Order, order_id)  # someone else's order is not found, before the form is read

    def refund():
        form = parse_form(ConsoleRefundForm, request.form)
        console_orders.refund(scope(), order_id, reason=form.reason, quantities=None if form.whole else form.quantities)

    return _act_on_order(order_id, refund, "refund")


@bp.post("/orders/refunds/<id:refund_id>/retry")
@console_view(Area.ORDERS, Action.EDIT)
def order_refund_retry(refund_id: int):
    """重试退款: the same permission as a refund (a store manager: their own store's orders)."""
    order_id = scope().get(Refund, refund_id).order_id  # someone else's refund is not found
    return _act_on_order(order_id, lambda: console_orders.retry_refund(scope(), refund_id), "refund_retry")
