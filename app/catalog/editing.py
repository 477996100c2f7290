"""What the merchant console (and the product CSV import) changes in the catalog: categories, products,
SKUs. Each function takes the actor's Scope (app.merchants.scope) and parsed input (app.catalog.schemas),
loads what it changes through the scope (another merchant's id is NotFound), writes through the ORM (so the
merchant's catalog_rev changes in the same transaction and the shop shows the edit on its next page) and
records the change with app.merchants.audit. Services flush; the request commits.

Prices are fen here. The rules: a price is not negative, a member price is at most the price, a SKU's code
(货号) is unique per merchant (a unique constraint decides a race)."""
from __future__ import annotations

from typing import Iterable

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.catalog.models import Category, Product, Sku
from app.catalog.schemas import CategoryInput, ProductInput, SkuInput
from app.core.errors import BadRequest, Conflict
from app.extensions import db
from app.merchants import audit
from app.merchants.scope import Scope

CATEGORY_FIELDS = ("name", "sort")
PRODUCT_FIELDS = ("name", "category_id", "description", "featured", "active")
SKU_FIELDS = ("name", "code", "price_fen", "member_price_fen", "active")
# What the audit log's filter offers for the catalog (app.catalog.photos adds the photo actions).
AUDIT_ACTIONS = ("category.create", "category.update", "category.sort", "product.create", "product.update",
                 "product.publish", "product.unpublish", "sku.create", "sku.update", "sku.activate", "sku.deactivate")


# --------------------------------------------------------------------------------------------- refusals

class DuplicateCategory(Conflict):
    code = "duplicate_category"
    zh = "分类「{name}」已存在。"
    en = "The category “{name}” already exists."


class DuplicateSkuCode(Conflict):
    code = "duplicate_sku_code"
    zh = "货号 {sku_code} 已被其他 SKU 使用。"
    en = "The article code {sku_code} is already used by another SKU."


class NegativePrice(BadRequest):
    code = "negative_price"
    zh = "价格不能为负数。"
    en = "A price cannot be negative."


class MemberPriceAbovePrice(BadRequest):
    code = "member_price_above_price"
    zh = "会员价不能高于售价。"
    en = "The member price cannot be above the price."


def check_prices(price_fen: int, member_price_fen: int | None) -> None:
    """The price rules, before the database's CHECK constraints would refuse less clearly."""
    if price_fen < 0:
        raise NegativePrice(field="price")
    if member_price_fen is not None and member_price_fen < 0:
        raise NegativePrice(field="member_price")
    if member_price_fen is not None and member_price_fen > price_fen:
        raise MemberPriceAbovePrice(field="member_price")


# ------------------------------------------------------------------------------------------- categories

def _name_taken(scope: Scope, name: str, except_id: int | None = None) -> bool:
    query = scope.select(Category, Category.id).where(Category.name == name)
    if except_id is not None:
        query = query.where(Category.id != except_id)
    return db.session.execute(query).first() is not None


def _flush_unique(error: Conflict) -> None:
    """Flush in a savepoint; a unique constraint that refuses (a concurrent twin) becomes `error`."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise error from None


def create_category(scope: Scope, form: CategoryInput) -> Category:
    if _name_taken(scope, form.name):
        raise DuplicateCategory(name=form.name, field="name")
    category = Category(merchant_id=scope.merchant_id, name=form.name, sort=form.sort)
    db.session.add(category)
    _flush_unique(DuplicateCategory(name=form.name, field="name"))
    audit.record(scope, "category.create", "category", category.id,
                 after=audit.summary(category, CATEGORY_FIELDS))
    return category


def update_category(scope: Scope, category_id: int, form: CategoryInput) -> Category:
    """Rename and/or move a category."""
    category = scope.get(Category, category_id)
    if _name_taken(scope, form.name, except_id=category.id):
        raise DuplicateCategory(name=form.name, field="name")
    audit.change(scope, category, form.model_dump(), fields=CATEGORY_FIELDS, action="category.update",
                 object_type="category")
    return category


def sort_categories(scope: Scope, ordered_ids: Iterable[int]) -> list[Category]:
    """Put the categories in this order (sort 10, 20, …); categories not named keep theirs, after them."""
    ordered_ids = list(dict.fromkeys(ordered_ids))
    categories = [scope.get(Category, i) for i in ordered_ids]
    before = {c.id: c.sort for c in categories}
    for position, category in enumerate(categories, start=1):
        category.sort = position * 10
    others = db.session.execute(scope.select(Category).where(Category.id.not_in(ordered_ids))
                                .order_by(Category.sort, Category.id)).scalars().all()
    for position, category in enumerate(others, start=len(categories) + 1):
        before.setdefault(category.id, category.sort)
        category.sort = position * 10
    db.session.flush()
    after = {c.id: c.sort for c in [*categories, *others]}
    moved = {str(i): before[i] for i in after if before[i] != after[i]}
    if moved:
        audit.record(scope, "category.sort", "category", None, before=moved,
                     after={i: after[int(i)] for i in moved})
    return categories + others


def categories(scope: Scope) -> list[Category]:
    return db.session.execute(scope.select(Category).order_by(Category.sort, Category.id)).scalars().all()


def skus_with_products(scope: Scope) -> list:
    """Every SKU of the merchant with its product, in product order: what a campaign editor offers."""
    return db.session.execute(scope.select(Sku, Sku, Product).join(Product, Product.id == Sku.product_id)
                              .order_by(Product.id, Sku.id)).all()


# --------------------------------------------------------------------------------------------- products

def _category_id(scope: Scope, category_id: int | None) -> int | None:
    return None if category_id is None else scope.get(Category, category_id).id


def create_product(scope: Scope, form: ProductInput, *, image: str = "") -> Product:
    """A new product (unpublished unless form.active). `image` is its cover's stored key (app.catalog.photos),
    empty until a photo is uploaded."""
    values = form.model_dump()
    values["category_id"] = _category_id(scope, form.category_id)
    product = Product(merchant_id=scope.merchant_id, image=image, **values)
    db.session.add(product)
    db.session.flush()
    audit.record(scope, "product.create", "product", product.id, after=audit.summary(product, PRODUCT_FIELDS))
    return product


def update_product(scope: Scope, product_id: int, form: ProductInput) -> Product:
    product = scope.get(Product, product_id)
    values = form.model_dump()
    values["category_id"] = _category_id(scope, form.category_id)
    audit.change(scope, product, values, fields=PRODUCT_FIELDS, action="product.update", object_type="product")
    return product


def set_product_active(scope: Scope, product_id: int, active: bool) -> Product:
    """Publish (上架: in the shop when it has an active SKU) or unpublish (下架) a product."""
    product = scope.get(Product, product_id)
    audit.change(scope, product, {"active": active}, fields=["active"],
                 action="product.publish" if active else "product.unpublish", object_type="product")
    return product


# ------------------------------------------------------------------------------------------------- SKUs

def _check_code(scope: Scope, code: str | None, except_id: int | None = None) -> None:
    if code is None:
        return
    query = scope.select(Sku, Sku.id).where(Sku.code == code)
    if except_id is not None:
        query = query.where(Sku.id != except_id)
    if db.session.execute(query).first() is not None:
        raise DuplicateSkuCode(sku_code=code, field="code")


def create_sku(scope: Scope, product_id: int, form: SkuInput) -> Sku:
    product = scope.get(Product, product_id)
    check_prices(form.price_fen, form.member_price_fen)
    _check_code(scope, form.code)
    sku = Sku(merchant_id=scope.merchant_id, product=product, **form.model_dump())
    db.session.add(sku)
    _flush_unique(DuplicateSkuCode(sku_code=form.code, field="code"))
    audit.record(scope, "sku.create", "sku", sku.id, after={"product_id": product.id,
                                                            **audit.summary(sku, SKU_FIELDS)})
    return sku


def update_sku(scope: Scope, sku_id: int, form: SkuInput) -> Sku:
    sku = scope.get(Sku, sku_id)
    check_prices(form.price_fen, form.member_price_fen)
    _check_code(scope, form.code, except_id=sku.id)
    before = audit.summary(sku, SKU_FIELDS)
    for name, value in form.model_dump().items():
        setattr(sku, name, value)
    _flush_unique(DuplicateSkuCode(sku_code=form.code, field="code"))
    old, new = audit.changed(before, audit.summary(sku, SKU_FIELDS))
    if new:
        audit.record(scope, "sku.update", "sku", sku.id, before=old, after=new)
    return sku


def set_sku_active(scope: Scope, sku_id: int, active: bool) -> Sku:
    """Deactivate (no longer sold; kept for past orders) or reactivate a SKU."""
    sku = scope.get(Sku, sku_id)
    audit.change(scope, sku, {"active": active}, fields=["active"],
                 action="sku.activate" if active else "sku.deactivate", object_type="sku")
    return sku


def deactivate_sku(scope: Scope, sku_id: int) -> Sku:
    return set_sku_active(scope, sku_id, False)


def find_sku_by_code(scope: Scope, code: str) -> Sku | None:
    """The merchant's SKU with this article code (货号), or None."""
    return db.session.execute(scope.select(Sku).where(Sku.code == code)).scalar_one_or_none()
