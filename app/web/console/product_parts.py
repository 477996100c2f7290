"""A product's parts, edited on its page: SKUs (prices in yuan on screen), the cover photo and the gallery's
further photos. Refusals re-render the product page with the sentence and the status."""
from __future__ import annotations

from flask import g, redirect, url_for

from app.catalog import editing, photos
from app.catalog.models import Product, Sku
from app.catalog.schemas import SkuInput
from app.core.database import rollback
from app.core.errors import BadRequest, DomainError
from app.core.schemas import parse
from app.merchants.permissions import Action, Area
from app.web.console import bp
from app.web.console.guard import console_view, scope
from app.web.console.products import render_product, sku_form, uploaded
from app.web.limits import accepts_uploads


def _page(product_id: int):
    return redirect(url_for("console.product", product_id=product_id))


def _refused(product_id: int, exc: DomainError):
    rollback()
    return render_product(scope().get(Product, product_id), exc.message(g.lang), exc.status)


def _photo() -> bytes:
    data = uploaded()
    if data is None:
        raise BadRequest(field="photo", zh="请选择一张图片。", en="Choose a photo to upload.")
    return data


# ------------------------------------------------------------------------------------------------- SKUs

@bp.post("/products/<id:product_id>/skus")
@console_view(Area.PRODUCTS, Action.EDIT)
def sku_create(product_id: int):
    scope().get(Product, product_id)  # someone else's product is NotFound before the form is read
    try:
        editing.create_sku(scope(), product_id, parse(SkuInput, sku_form()))
    except DomainError as exc:
        return _refused(product_id, exc)
    return _page(product_id)


@bp.post("/skus/<id:sku_id>")
@console_view(Area.PRODUCTS, Action.EDIT)
def sku_save(sku_id: int):
    sku = scope().get(Sku, sku_id)
    product_id = sku.product_id
    try:
        editing.update_sku(scope(), sku_id, parse(SkuInput, {**sku_form(), "active": sku.active}))
    except DomainError as exc:
        return _refused(product_id, exc)
    return _page(product_id)


@bp.post("/skus/<id:sku_id>/deactivate")
@console_view(Area.PRODUCTS, Action.EDIT)
def sku_deactivate(sku_id: int):
    sku = editing.set_sku_active(scope(), sku_id, False)
    return _page(sku.product_id)


@bp.post("/skus/<id:sku_id>/activate")
@console_view(Area.PRODUCTS, Action.EDIT)
def sku_activate(sku_id: int):
    sku = editing.set_sku_active(scope(), sku_id, True)
    return _page(sku.product_id)


# ----------------------------------------------------------------------------------------------- photos

@bp.post("/products/<id:product_id>/cover")
@accepts_uploads
@console_view(Area.PRODUCTS, Action.EDIT)
def product_cover(product_id: int):
    scope().get(Product, product_id)
    try:
        photos.set_cover(scope(), product_id, _photo())
    except DomainError as exc:
        return _refused(product_id, exc)
    return _page(product_id)


@bp.post("/products/<id:product_id>/photos")
@accepts_uploads
@console_view(Area.PRODUCTS, Action.EDIT)
def product_photo_add(product_id: int):
    scope().get(Product, product_id)
    try:
        photos.add_photo(scope(), product_id, _photo())
    except DomainError as exc:
        return _refused(product_id, exc)
    return _page(product_id)


@bp.post("/products/<id:product_id>/photos/<id:photo_id>/delete")
@console_view(Area.PRODUCTS, Action.EDIT)
def product_photo_delete(product_id: int, photo_id: int):
    photos.remove_photo(scope(), product_id, photo_id)
    return _page(product_id)


@bp.post("/products/<id:product_id>/photos/<id:photo_id>/cover")
@console_view(Area.PRODUCTS, Action.EDIT)
def product_photo_to_cover(product_id: int, photo_id: int):
    photos.photo_to_cover(scope(), product_id, photo_id)
    return _page(product_id)
