"""The shop's front page: stores (nearest first when the phone shares its position), search, category
chips and product cards."""
from __future__ import annotations

import sqlalchemy as sa
from flask import make_response, redirect, render_template, request, url_for

from app.catalog.service import format_distance, stores_near
from app.core.database import reads_only
from app.extensions import db
from app.merchants.models import Merchant
from app.web.shop import bp
from app.web.shop.cart import cart_count
from app.web.shop.page_memo import memo_page
from app.web.shop.catalog import (card_renderer, int_arg, pick_store, remember_position, remember_store,
                                  shopper_position, visit_or_404)


@bp.get("/")
def index():
    first = db.session.execute(sa.select(Merchant.slug).order_by(Merchant.id).limit(1)).scalar()
    if first is None:
        return render_template("shop/empty.html")
    return redirect(url_for("shop.home", slug=first))


HOME_QUERY = frozenset({"store", "c", "lang"})  # the query parameters a kept home page may carry


@bp.get("/m/<slug>/")
@reads_only
def home(slug: str):
    visit = visit_or_404(slug)  # one query: the merchant row and the signed-in member, confirmed
    cat, signed_in = visit.catalog, visit.member_id is not None
    merchant = cat.merchant
    position, position_from_request = shopper_position()
    nearby = stores_near(cat.stores, position)
    chosen, source = pick_store(cat.stores, int_arg("store"), merchant.id)
    if source == "default":
        chosen = None  # the shopper has not chosen: mark no store as theirs
    category_id = int_arg("c")
    if all(c.id != category_id for c in cat.categories):
        category_id = None
    q = request.args.get("q", "").strip()[:60]
    cart_n = cart_count(merchant.id)

    def render() -> str:
        products = cat.search(q, category_id)
        filtering = bool(q) or category_id is not None
        base = f"/m/{merchant.slug}"
        return render_template(
            "shop/home.html", merchant=merchant, nearby=nearby, stores=cat.stores, chosen=chosen,
            located=position is not None, categories=cat.categories, category_id=category_id, q=q,
            products=products, featured=[] if filtering else [p for p in products if p.featured],
            filtering=filtering, format_distance=format_distance, card=card_renderer(cat, signed_in),
            home_url=f"{base}/", store_base=f"{base}/s/", cart_n=cart_n,
        )

    # Beyond the snapshot the page shows the shopper's store, position, category, cart count and whether a
    # member is signed in. A search (?q=) or a position in the URL is rendered afresh (page_memo: HOME_QUERY).
    key = (signed_in, chosen.id if chosen else None, position, category_id, cart_n)
    response = make_response(memo_page(cat, key, render, reads=HOME_QUERY))
    if position is not None and position_from_request:
        remember_position(response, position)
    if chosen is not None and source == "request":
        remember_store(response, merchant.id, chosen.id)
    return response
