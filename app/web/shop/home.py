from __future__ import annotations

import sqlalchemy as sa
from flask import abort, redirect, render_template, url_for
from sqlalchemy.orm import selectinload

from app.catalog.models import Category, Product
from app.extensions import db
from app.merchants.models import Merchant, Store
from app.web.shop import bp


@bp.get("/")
def index():
    first = db.session.execute(sa.select(Merchant.slug).order_by(Merchant.id).limit(1)).scalar()
    if first is None:
        return render_template("shop/empty.html")
    return redirect(url_for("shop.home", slug=first))


@bp.get("/m/<slug>/")
def home(slug: str):
    merchant = db.session.execute(sa.select(Merchant).where(Merchant.slug == slug)).scalar_one_or_none()
    if merchant is None:
        abort(404)
    stores = db.session.execute(
        sa.select(Store).where(Store.merchant_id == merchant.id, Store.active.is_(True)).order_by(Store.id)
    ).scalars().all()
    products = db.session.execute(
        sa.select(Product).where(Product.merchant_id == merchant.id, Product.active.is_(True))
        .options(selectinload(Product.skus)).order_by(Product.featured.desc(), Product.id)
    ).scalars().all()
    categories = db.session.execute(
        sa.select(Category).where(Category.merchant_id == merchant.id).order_by(Category.sort, Category.id)
    ).scalars().all()
    return render_template("shop/home.html", merchant=merchant, stores=stores, products=products,
                           categories=categories)
