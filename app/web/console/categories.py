"""Categories: list with their product counts, create, rename and move (the shop lists them in this order).
Owner and operator edit; a store manager sees the list."""
from __future__ import annotations

import sqlalchemy as sa
from flask import g, redirect, render_template, request, url_for

from app.catalog import editing
from app.catalog.models import Category, Product
from app.catalog.schemas import CategoryInput, CategoryOrderInput
from app.core.database import rollback
from app.core.errors import DomainError
from app.core.schemas import parse
from app.extensions import db
from app.merchants.permissions import Action, Area, allowed
from app.web.console import bp
from app.web.console.guard import console_view, scope


def _page(error: str | None = None, status: int = 200):
    counts = dict(db.session.execute(scope().select(Product, Product.category_id, sa.func.count(Product.id))
                                     .group_by(Product.category_id)).all())
    return render_template("console/categories.html", categories=editing.categories(scope()), counts=counts,
                           can_edit=allowed(scope().role, Area.PRODUCTS, Action.EDIT), error=error), status


def _form() -> dict:
    return {k: request.form[k] for k in ("name", "sort") if k in request.form}


@bp.get("/categories")
@console_view(Area.PRODUCTS)
def categories():
    return _page()


@bp.post("/categories")
@console_view(Area.PRODUCTS, Action.EDIT)
def category_create():
    try:
        editing.create_category(scope(), parse(CategoryInput, _form()))
    except DomainError as exc:
        rollback()
        return _page(exc.message(g.lang), exc.status)
    return redirect(url_for("console.categories"))


@bp.post("/categories/<id:category_id>")
@console_view(Area.PRODUCTS, Action.EDIT)
def category_save(category_id: int):
    scope().get(Category, category_id)
    try:
        editing.update_category(scope(), category_id, parse(CategoryInput, _form()))
    except DomainError as exc:
        rollback()
        return _page(exc.message(g.lang), exc.status)
    return redirect(url_for("console.categories"))


@bp.post("/categories/order")
@console_view(Area.PRODUCTS, Action.EDIT)
def category_order():
    ids = parse(CategoryOrderInput, {"ids": request.form.getlist("ids")}).ids
    editing.sort_categories(scope(), ids)
    return redirect(url_for("console.categories"))
