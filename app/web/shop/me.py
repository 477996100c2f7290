"""The member's own page: orders, vouchers (valid / used / expired), member card with points, and what is
waiting for a review."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, render_template, request

from app.catalog.models import Review
from app.core.clock import now_utc
from app.extensions import db
from app.members.models import PointsEntry
from app.members.phone import mask
from app.merchants.models import Store
from app.orders import service as orders
from app.orders.models import OrderStatus
from app.vouchers.models import Voucher
from app.vouchers.service import effective_status
from app.vouchers.tokens import make_holder_token
from app.web.shop import bp
from app.web.shop.cart import cart_count
from app.web.shop.session import current_member, member_required, merchant_by_slug

TABS = {"valid": ("issued", "partly_used"), "used": ("redeemed",), "expired": ("expired", "void", "revoked")}
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

    reviewed = {(o, p) for o, p in db.session.execute(
        sa.select(Review.order_id, Review.product_id).where(Review.member_id == member.id))}
    to_review = []
    for order in my_orders:
        if order.status not in (OrderStatus.PICKED_UP, OrderStatus.COMPLETED):
            continue
        seen = set()
        for line in order.lines:
            key = (order.id, line.product_id)
            if line.open_quantity and key not in reviewed and key not in seen:
                seen.add(key)
                to_review.append({"order": order, "line": line})

    return render_template(
        "shop/me.html", merchant=merchant, member=member, orders=my_orders, stores=stores, tab=tab,
        vouchers=by_tab, ledger=ledger, to_review=to_review, count=cart_count(merchant.id), phone=mask(member.phone),
    )
