"""Vouchers: search by code (as typed), member phone or nickname; filter by status, store, source (sort, page,
CSV); the detail page (events, redemptions, the voucher it replaces or that replaced it) and revoke, reissue
and undo of the latest redemption. Who sees which voucher: app.vouchers.console."""
from __future__ import annotations

from flask import g, redirect, render_template, request, url_for

from app.core.clock import format_shanghai, now_utc
from app.core.database import rollback
from app.core.errors import BadRequest, DomainError
from app.core.i18n import N_
from app.core.money import yuan
from app.core.schemas import parse_form
from app.extensions import db
from app.merchants.permissions import Action, Area
from app.orders.handover import order_for_voucher
from app.vouchers import codes
from app.vouchers import console as console_vouchers
from app.vouchers.models import Voucher
from app.vouchers.service import effective_status
from app.web.console import bp
from app.web.console.forms import ReasonForm, UndoForm, VoucherArgs
from app.web.console.guard import console_view, scope
from app.web.console.listing import csv_response, paginate, visible_stores

SORTS = {"id": Voucher.id, "created": Voucher.created_at, "valid_until": Voucher.valid_until,
         "status": Voucher.status}
SOURCE_LABELS = {"order": N_("订单取货"), "coupon": N_("优惠券"), "groupbuy": N_("拼团"), "presale": N_("预售"),
                 "api": N_("接口发放"), "demo": N_("演示")}
STATUS_LABELS = {"issued": N_("未使用"), "partly_used": N_("部分使用"), "redeemed": N_("已核销"),
                 "expired": N_("已过期"), "revoked": N_("已撤回"), "void": N_("已作废")}
EVENT_LABELS = {"issued": N_("发放"), "redeemed": N_("核销"), "undone": N_("撤销核销"), "revoked": N_("撤回"),
                "voided": N_("作废"), "expired": N_("过期")}


def _filter() -> console_vouchers.VoucherFilter:
    a = parse_form(VoucherArgs, request.args)
    return console_vouchers.VoucherFilter(q=a.q, status=a.status, store_id=a.store, source=a.source,
                                          redeemed_on=a.redeemed_on, redeemed_store_id=a.redeemed_at_store)


def _labels() -> dict:
    return {"source_labels": SOURCE_LABELS, "status_labels": STATUS_LABELS, "pretty_code": codes.pretty,
            "status_of": lambda v: effective_status(v, now_utc())}


@bp.get("/vouchers")
@console_view(Area.VOUCHERS)
def vouchers():
    page = paginate(console_vouchers.search(scope(), _filter()), SORTS, "id", scalars=False, default_desc=True)
    return render_template("console/vouchers.html", page=page, stores=visible_stores(), **_labels())


@bp.get("/vouchers.csv")
@console_view(Area.VOUCHERS)
def vouchers_csv():
    rows = db.session.execute(console_vouchers.search(scope(), _filter()).order_by(Voucher.id.desc()))
    now = now_utc()
    at = lambda value: format_shanghai(value, "yyyy-MM-dd HH:mm:ss")  # noqa: E731
    return csv_response("vouchers.csv", ["id", "code", "title", "member", "status", "source", "uses_total",
                                         "uses_left", "value_yuan", "valid_from", "valid_until", "created_at",
                                         "replaces_id"],
                        ([v.id, codes.pretty(v.code), v.title, m.display_name if m else "", effective_status(v, now),
                          v.source.value, v.uses_total, v.uses_left, yuan(v.value_fen), at(v.valid_from),
                          at(v.valid_until), at(v.created_at), v.replaces_id] for v, m in rows))


def _detail_page(voucher_id: int, *, error: str | None = None, status: int = 200):
    d = console_vouchers.detail(scope(), voucher_id)
    order = order_for_voucher(d.voucher)
    if order is not None and order.merchant_id != scope().merchant_id:
        order = None
    return render_template("console/voucher.html", d=d, order=order, error=error, done=request.args.get("done"),
                           event_labels=EVENT_LABELS, **_labels()), status


@bp.get("/vouchers/<id:voucher_id>")
@console_view(Area.VOUCHERS)
def voucher(voucher_id: int):
    return _detail_page(voucher_id)


def _act(voucher_id: int, action):
    """Runs `action()` for a voucher this person may see; a refusal is shown on the detail page."""
    scope().get(Voucher, voucher_id)  # someone else's voucher is not found, before the form is read
    try:
        target = action()
    except DomainError as exc:
        if exc.status == 404:
            raise
        rollback()
        return _detail_page(voucher_id, error=exc.message(g.lang), status=exc.status)
    return redirect(url_for("console.voucher", voucher_id=target, done=request.endpoint.rsplit("_", 1)[-1]))


@bp.post("/vouchers/<id:voucher_id>/revoke")
@console_view(Area.VOUCHERS, Action.EDIT)
def voucher_revoke(voucher_id: int):
    return _act(voucher_id, lambda: console_vouchers.revoke(
        scope(), voucher_id, parse_form(ReasonForm, request.form).reason).id)


@bp.post("/vouchers/<id:voucher_id>/reissue")
@console_view(Area.VOUCHERS, Action.EDIT)
def voucher_reissue(voucher_id: int):
    return _act(voucher_id, lambda: console_vouchers.reissue_voucher(
        scope(), voucher_id, parse_form(ReasonForm, request.form).reason).id)


@bp.post("/vouchers/<id:voucher_id>/undo")
@console_view(Area.VOUCHERS, Action.EDIT)
def voucher_undo(voucher_id: int):
    def undo():
        form = parse_form(UndoForm, request.form)
        if form.redemption_id is None:
            raise BadRequest(field="redemption_id", zh="请选择要撤销的核销。", en="Choose the redemption to undo.")
        console_vouchers.undo_redemption(scope(), voucher_id, form.redemption_id, form.reason)
        return voucher_id
    return _act(voucher_id, undo)
