"""Categories, products, SKUs (prices in fen), stock per store, reviews; and the merchant's catalog rev,
replaced by every ORM write to them."""
from __future__ import annotations

from datetime import datetime
from itertools import chain

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, column_property, mapped_column, relationship

from app.core.clock import now_utc
from app.core.db import UTCDateTime
from app.extensions import db
from app.merchants.models import Merchant, Staff, Store, new_catalog_rev
from app.merchants.scope import register as scope_register


class Category(db.Model):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchants.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    sort: Mapped[int] = mapped_column(default=0, server_default="0")

    __table_args__ = (sa.UniqueConstraint("merchant_id", "name"),)


class Product(db.Model):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchants.id"), index=True)
    category_id: Mapped[int | None] = mapped_column(sa.ForeignKey("categories.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    description: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    # The cover: a path under static/ ("img/products/latte.png", the demo's), an upload's media key
    # ("media:products/…", app.catalog.photos) or "" (none yet); app.core.media.image_url makes its URL.
    image: Mapped[str] = mapped_column(sa.String(255))
    featured: Mapped[bool] = mapped_column(default=False, server_default=sa.text("false"))
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.text("true"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    category: Mapped[Category | None] = relationship()
    skus: Mapped[list["Sku"]] = relationship(back_populates="product", order_by="Sku.id")
    # More photos after `image` (the cover, also used on cards and in the cart), in gallery order.
    photos: Mapped[list["ProductPhoto"]] = relationship(order_by="ProductPhoto.position",
                                                        cascade="all, delete-orphan")

    @property
    def min_price_fen(self) -> int:
        return min((s.price_fen for s in self.skus), default=0)

    @property
    def min_member_price_fen(self) -> int | None:
        prices = [s.member_price_fen for s in self.skus if s.member_price_fen is not None]
        return min(prices) if prices else None


class ProductPhoto(db.Model):
    """A further photo of a product, shown after the cover in the product page's gallery."""

    __tablename__ = "product_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"), index=True)
    position: Mapped[int]
    # Like Product.image: a path under static/ or a media key.
    image: Mapped[str] = mapped_column(sa.String(255))

    __table_args__ = (sa.UniqueConstraint("product_id", "position"),)


class Sku(db.Model):
    __tablename__ = "skus"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The product's merchant, copied when the SKU is first flushed (see _sku_merchant): it scopes the code.
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchants.id"), index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"), index=True)
    # The merchant's own article number (货号), unique per merchant: what an ERP, a POS or a CSV file names.
    code: Mapped[str | None] = mapped_column(sa.String(40))
    name: Mapped[str] = mapped_column(sa.String(60))
    price_fen: Mapped[int]
    member_price_fen: Mapped[int | None]
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.text("true"))

    product: Mapped[Product] = relationship(back_populates="skus")

    __table_args__ = (
        sa.CheckConstraint("price_fen >= 0", name="price_nonneg"),
        sa.CheckConstraint(
            "member_price_fen IS NULL OR (member_price_fen >= 0 AND member_price_fen <= price_fen)",
            name="member_price_range",
        ),
        sa.UniqueConstraint("merchant_id", "code", name="uq_skus_merchant_code"),
    )


class StoreStock(db.Model):
    """Units of a SKU on hand at a store. Changed only by conditional updates (see issue 4's orders)."""

    __tablename__ = "store_stock"

    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id"), primary_key=True)
    sku_id: Mapped[int] = mapped_column(sa.ForeignKey("skus.id"), primary_key=True, index=True)
    quantity: Mapped[int] = mapped_column(default=0)
    # The store's merchant, read through the store (not a column): what app.merchants.scope filters on.
    merchant_id: Mapped[int] = column_property(
        sa.select(Store.merchant_id).where(Store.id == store_id).scalar_subquery(), deferred=True)

    __table_args__ = (sa.CheckConstraint("quantity >= 0", name="quantity_nonneg"),)


class ImportUpload(db.Model):
    """A CSV file uploaded to the console for import (stock, products), kept until it is applied: the
    preview and the apply both read this copy, never what the browser sends back (app.catalog.csvimport)."""

    __tablename__ = "import_uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchants.id"), index=True)
    staff_id: Mapped[int] = mapped_column(sa.ForeignKey("staff.id"))
    kind: Mapped[str] = mapped_column(sa.String(20))  # "stock", "products"
    filename: Mapped[str] = mapped_column(sa.String(255), default="", server_default="")
    sha256: Mapped[str] = mapped_column(sa.String(64))
    content: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    # Set once, by a conditional UPDATE: a second apply of the same upload (a double click) is refused.
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    staff: Mapped[Staff] = relationship()


class Review(db.Model):
    """A member's review of a product they picked up; one per product per order."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(sa.ForeignKey("merchants.id"))
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"), index=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"))
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id"))
    rating: Mapped[int]
    body: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    __table_args__ = (
        sa.UniqueConstraint("order_id", "product_id"),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
    )


# --- the catalog rev: what the shop's snapshots (app.catalog.snapshot) are checked against -------------
# Registered here, with the models, so that every process that can write them keeps the rev honest.

def catalog_changed(merchant_ids, session: Session | None = None) -> None:
    """Give these merchants a new rev, in the current transaction."""
    ids = sorted({int(m) for m in merchant_ids if m is not None})
    if ids:
        (session or db.session).connection().execute(
            sa.update(Merchant.__table__).where(Merchant.__table__.c.id.in_(ids)).values(catalog_rev=new_catalog_rev()))


def _touched_merchants(session: Session) -> tuple[set[int], set[int]]:
    """(merchant ids, product ids of touched SKUs and photos) of the catalog rows this flush wrote."""
    merchants: set[int] = set()
    products: set[int] = set()
    new, dirty = session.new, session.dirty
    for obj in chain(new, dirty, session.deleted):
        # Collections count: a photo removed from product.photos (delete-orphan) is not in session.deleted yet.
        if obj in dirty and not session.is_modified(obj):
            continue
        if isinstance(obj, Merchant):
            if obj not in new:  # a new merchant comes with a fresh rev
                merchants.add(obj.id)
        elif isinstance(obj, (Store, Category, Product, Review)):
            merchants.add(obj.merchant_id)
        elif isinstance(obj, (Sku, ProductPhoto)):
            products.add(obj.product_id)
    return merchants, products


@event.listens_for(Session, "before_flush")
def _sku_merchant(session: Session, _context, _instances) -> None:
    """A new SKU belongs to its product's merchant."""
    for obj in session.new:
        if isinstance(obj, Sku) and obj.merchant_id is None:
            product = obj.product if obj.product is not None else session.get(Product, obj.product_id)
            obj.merchant_id = product.merchant_id


@event.listens_for(Session, "after_flush")
def _bump_on_flush(session: Session, _context) -> None:
    merchants, products = _touched_merchants(session)
    if products:
        merchants |= set(session.connection().execute(
            sa.select(Product.merchant_id).where(Product.id.in_(sorted(products)))).scalars())
    catalog_changed(merchants, session)


# --- the console reads the catalog through app.merchants.scope: a store manager sees every product (view only)

def _whole_catalog(_scope) -> list:
    return []


for _model in (Category, Product, Sku):
    scope_register(_model, _whole_catalog)
