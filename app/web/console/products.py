"""Products: list (filter, sort, page, CSV), create (with a first SKU and a cover photo), view and edit (its
SKUs and photos: app.web.console.product_parts), publish and unpublish. Owner and operator edit; a store
manager sees the same pages read-only. The rules are app.catalog.editing's and app.catalog.photos'."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from flask import g, redirect, render_template, request, url_for

from app.catalog import editing, photos
from app.catalog.models import Category, Product, Sku
from app.catalog.schemas import ProductInput, SkuInput
from app.core.database import rollback
from app.core.errors import DomainError
from app.core.media import image_url
from app.core.money import yuan
from app.core.schemas import parse
from app.extensions import db
from app.merchants.models import Merchant
from app.merchants.permissions import Action, Area, allowed
from app.web.console import bp
from app.web.console.guard import console_view, scope
from app.web.console.listing import csv_response, paginate
from app.web.limits import accepts_uploads

SORTS = {"id": Product.id, "name": Product.name, "active": Product.active, "featured": Product.featured,
         "created_at": Product.created_at}
PRODUCT_KEYS = ("name", "category_id", "description", "featured", "active")
SKU_KEYS = ("name", "code", "price", "member_price")


def _filtered() -> sa.Select:
    query = scope().select(Product)
    q = request.args.get("q", "").strip()
    if q:
        codes = scope().select(Sku, Sku.product_id).where(Sku.code.contains(q))
        query = query.where(Product.name.contains(q) | Product.description.contains(q) | Product.id.in_(codes))
    category = request.args.get("category", "")
    if category == "none":
        query = query.where(Product.category_id.is_(None))
    elif category.isdigit():
        query = query.where(Product.category_id == int(category))
    status = request.args.get("status")
    if status in ("published", "unpublished"):
        query = query.where(Product.active.is_(status == "published"))
    return query


def product_form() -> dict:
    return {k: request.form[k] for k in PRODUCT_KEYS if k in request.form}


def sku_form(prefix: str = "") -> dict:
    return {k: request.form.get(prefix + k, "") for k in SKU_KEYS}


def uploaded(name: str = "photo") -> bytes | None:
    file = request.files.get(name)
    if file is None or not file.filename:
        return None
    return file.read()


@bp.get("/products")
@console_view(Area.PRODUCTS)
def products():
    page = paginate(_filtered().options(selectinload(Product.skus)), SORTS, "id")
    return render_template("console/products.html", page=page, categories=editing.categories(scope()),
                           image_url=image_url)


@bp.get("/products.csv")
@console_view(Area.PRODUCTS)
def products_csv():
    names = {c.id: c.name for c in editing.categories(scope())}
    rows = db.session.execute(_filtered().options(selectinload(Product.skus)).order_by(Product.id)).scalars()
    return csv_response("products.csv", ["id", "name", "category", "published", "featured", "skus", "min_price",
                                         "min_member_price", "description", "created_at"],
                        ([p.id, p.name, names.get(p.category_id, ""), int(p.active), int(p.featured),
                          " ".join(s.code or s.name for s in p.skus if s.active),
                          yuan(p.min_price_fen) if p.skus else "", yuan(p.min_member_price_fen), p.description,
                          p.created_at.isoformat()] for p in rows))


@bp.route("/products/new", methods=["GET", "POST"])
@accepts_uploads
@console_view(Area.PRODUCTS, Action.EDIT)
def product_new():
    error, status = None, 200
    if request.method == "POST":
        try:
            product = editing.create_product(scope(), parse(ProductInput, product_form()))
            first = sku_form("sku_")
            if any(first.values()):
                editing.create_sku(scope(), product.id, parse(SkuInput, first))
            photo = uploaded()
            if photo is not None:
                photos.set_cover(scope(), product.id, photo)
            return redirect(url_for("console.product", product_id=product.id))
        except DomainError as exc:
            rollback()
            error, status = exc.message(g.lang), exc.status
    return render_template("console/product_new.html", categories=editing.categories(scope()), error=error), status


def render_product(product: Product, error: str | None = None, status: int = 200):
    merchant = db.session.get(Merchant, scope().merchant_id)
    return render_template("console/product.html", product=product, categories=editing.categories(scope()),
                           image_url=image_url, error=error, shop_slug=merchant.slug,
                           category=db.session.get(Category, product.category_id) if product.category_id else None,
                           can_edit=_can_edit()), status


def _can_edit() -> bool:
    return allowed(scope().role, Area.PRODUCTS, Action.EDIT)


def _back(product_id: int) -> str:
    """Where a publish button returns: the list it was pressed on (a console path only), else the product."""
    back = request.form.get("back", "")
    if back.startswith("/console/") and "//" not in back and "\\" not in back:
        return back
    return url_for("console.product", product_id=product_id)


@bp.get("/products/<id:product_id>")
@console_view(Area.PRODUCTS)
def product(product_id: int):
    return render_product(scope().get(Product, product_id))


@bp.post("/products/<id:product_id>")
@console_view(Area.PRODUCTS, Action.EDIT)
def product_save(product_id: int):
    product = scope().get(Product, product_id)
    try:
        editing.update_product(scope(), product_id, parse(ProductInput, product_form()))
    except DomainError as exc:
        rollback()
        return render_product(scope().get(Product, product_id), exc.message(g.lang), exc.status)
    return redirect(url_for("console.product", product_id=product.id))


@bp.post("/products/<id:product_id>/publish")
@console_view(Area.PRODUCTS, Action.EDIT)
def product_publish(product_id: int):
    editing.set_product_active(scope(), product_id, True)
    return redirect(_back(product_id))


@bp.post("/products/<id:product_id>/unpublish")
@console_view(Area.PRODUCTS, Action.EDIT)
def product_unpublish(product_id: int):
    editing.set_product_active(scope(), product_id, False)
    return redirect(_back(product_id))
