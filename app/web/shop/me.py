"""The member's own page: orders, vouchers (valid / used / expired), member card with points, and what is
waiting for a review."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, render_template, request

from app.core.clock import now_utc
from app.extensions import db
from app.members.models import PointsEntry
from app.members.phone import mask
from app.merchants.models import Store
from app.orders import progress as progress_
from app.orders import reviews
from app.orders import service as orders
from app.vouchers.models import Voucher, VoucherSource, VoucherStatus
from app.vouchers.service import effective_status
from app.vouchers.tokens import make_holder_token
from app.web.shop import bp
from app.web.shop.cart import cart_count
from app.web.shop.session import current_member, member_required, merchant_by_slug

# Which of the member's vouchers each tab lists, by their effective status (expired counts once past its time).
TABS = {"valid": {VoucherStatus.ISSUED.value, VoucherStatus.PARTLY_USED.value},
        "used": {VoucherStatus.REDEEMED.value},
        "expired": {VoucherStatus.EXPIRED.value, VoucherStatus.VOID.value, VoucherStatus.REVOKED.value}}
LEDGER_ROWS = 10


@bp.get("/m/<slug>/me")
@member_required
def me(slug: str):
    merchant = merchant_by_slug(slug)
    member = current_member(merchant.id)
    now = now_utc()
    my_orders = orders.orders_of(member)
    stores = {s.id: s for s in db.session.execute(sa.select(Store).where(Store.merchant_id == merchant.id)).scalars()}

    tab = request.args.get("tab") if request.args.get("tab") in TABS else "valid"
    all_vouchers = db.session.execute(
        sa.select(Voucher).where(Voucher.member_id == member.id, Voucher.merchant_id == merchant.id)
        .order_by(Voucher.id.desc()).limit(200)).scalars().all()
    secret = current_app.config["SECRET_KEY"]
    by_tab = {name: [] for name in TABS}
    for v in all_vouchers:
        status = effective_status(v, now)
        name = next((t for t, statuses in TABS.items() if status in statuses), "expired")
        by_tab[name].append({"voucher": v, "status": status, "holder": make_holder_token(secret, v.id)})

    ledger = db.session.execute(
        sa.select(PointsEntry).where(PointsEntry.member_id == member.id)
        .order_by(PointsEntry.id.desc()).limit(LEDGER_ROWS)).scalars().all()

    progress = progress_.progress_of(my_orders)
    headlines = {o.id: progress_.headline(o, progress[o.id]) for o in my_orders}
    return render_template(
        "shop/me.html", merchant=merchant, member=member, orders=my_orders, stores=stores, tab=tab,
        vouchers=by_tab, ledger=ledger, to_review=reviews.waiting_for_review(my_orders, member.id), headlines=headlines, count=cart_count(merchant.id), phone=mask(member.phone),
        coupon_count=sum(1 for item in by_tab["valid"] if item["voucher"].source is VoucherSource.COUPON),
    )
