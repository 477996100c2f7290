"""A merchant's catalog as the shop shows it (stores, categories, products with their SKUs, reviews),
kept in each worker process and checked against the merchant row on every use.

The shop's catalog pages read the merchant row anyway; that row carries `catalog_rev`, a random number
that is replaced in the same transaction as any ORM change to the merchant, its stores, categories,
products, SKUs or reviews (see `app.catalog.models.catalog_changed`). A snapshot built at rev R is used only while the row
still says R, so the next page after a change shows it, on every worker and every machine, with no cache
server and no time-to-live. A random rev (not a counter) also means a rolled-back change can never make
an old snapshot look current again.

Stock is not in here: it changes with every order and is read per request (`with_stock`, `in_stock_at`).

Writes that bypass the ORM session (a Core UPDATE of products, say) must call
`app.catalog.models.catalog_changed` in the same transaction.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time

import sqlalchemy as sa

from app.catalog.models import Category, Product, ProductPhoto, Review, Sku, StoreStock
from app.catalog.service import ReviewSummary, ReviewView, mask_name
from app.core.lru import LRU
from app.core.media import image_url
from app.extensions import db
from app.members.models import Member
from app.merchants.models import Merchant, Store

MAX_MERCHANTS = 256  # snapshots kept per process; the least recently built goes first
RECENT_REVIEWS = 10
# Values derived from a snapshot (product cards, prices, offers), kept per worker across every merchant's
# snapshots, under the merchant and its rev: ~1 kB each, ~16 MB at most.
MEMO = LRU(16384)


# --- what the pages see -----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class MerchantView:
    id: int
    slug: str
    name: str


@dataclass(frozen=True, slots=True)
class StoreView:
    id: int
    name: str
    city: str
    address: str
    latitude: float
    longitude: float
    opens_at: time
    closes_at: time
    phone: str
    delivery_radius_m: int

    @property
    def hours_text(self) -> str:
        return f"{self.opens_at:%H:%M}–{self.closes_at:%H:%M}"


@dataclass(frozen=True, slots=True)
class CategoryView:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class SkuView:
    id: int
    name: str
    price_fen: int
    member_price_fen: int | None


@dataclass(frozen=True, slots=True)
class ProductView:
    id: int
    category_id: int | None
    name: str
    description: str
    image: str
    image_url: str  # the cover
    photo_urls: tuple[str, ...]  # the gallery: the cover, then the further photos in order
    featured: bool
    skus: tuple[SkuView, ...]  # active ones, by id; a product without any is not on sale
    min_price_fen: int
    min_member_price_fen: int | None
    haystack: str  # name and description, case-folded, for search

    def matches(self, q: str) -> bool:
        return q.casefold() in self.haystack


@dataclass(frozen=True, slots=True)
class ProductReviews:
    summary: ReviewSummary
    recent: tuple[ReviewView, ...]


@dataclass(frozen=True)
class Catalog:
    rev: int
    merchant: MerchantView
    stores: tuple[StoreView, ...]  # open ones, by id
    categories: tuple[CategoryView, ...]  # by sort, id
    products: tuple[ProductView, ...]  # on sale, featured first, then by id
    _stores_by_id: dict[int, StoreView] = field(repr=False)
    _products_by_id: dict[int, ProductView] = field(repr=False)
    _reviews: dict[int, ProductReviews] = field(default_factory=dict, repr=False)

    def store(self, store_id: int | None) -> StoreView | None:
        return self._stores_by_id.get(store_id)

    def product(self, product_id: int | None) -> ProductView | None:
        return self._products_by_id.get(product_id)

    def search(self, q: str | None = None, category_id: int | None = None) -> list[ProductView]:
        """Products on sale in this category whose name or description contains `q` (any case); the
        text is matched literally, so % and _ are ordinary characters."""
        q = (q or "").strip()
        return [p for p in self.products
                if (category_id is None or p.category_id == category_id) and (not q or p.matches(q))]

    def memo(self, key, build):
        """`build()`, kept while this snapshot is current and the value in use: for values derived only from
        the snapshot and from what is in `key` (a rendered product card, say). One LRU per worker (MEMO)."""
        return MEMO.get((self.merchant.id, self.rev, key), build)

    def reviews(self, product_id: int) -> ProductReviews:
        """Average, count and the newest reviews of a product, read once per rev."""
        found = self._reviews.get(product_id)
        if found is None:
            found = self._reviews[product_id] = _load_reviews(self.merchant.id, product_id)
        return found


# --- the per-process cache --------------------------------------------------------------------------

# The merchant row, and the id of the one member among the session's (one per merchant shopped at) who
# belongs to this merchant, NULL when none does: pages learn who is shopping without a query of their own.
_MERCHANT_COLUMNS = (Merchant.id, Merchant.slug, Merchant.name, Merchant.catalog_rev,
                     Member.id.label("member_id"))
_MEMBER_JOIN = sa.and_(Member.id.in_(sa.bindparam("member_ids", expanding=True)), Member.merchant_id == Merchant.id)
_MERCHANT_BY_SLUG = (
    sa.select(*_MERCHANT_COLUMNS).select_from(Merchant).outerjoin(Member, _MEMBER_JOIN)
    .where(Merchant.slug == sa.bindparam("slug"))
)
_MERCHANT_AND_STOCK = (
    sa.select(*_MERCHANT_COLUMNS, StoreStock.store_id, StoreStock.sku_id, StoreStock.quantity)
    .select_from(Merchant)
    .outerjoin(Member, _MEMBER_JOIN)
    .outerjoin(Product, sa.and_(Product.id == sa.bindparam("product_id"), Product.merchant_id == Merchant.id))
    .outerjoin(Sku, sa.and_(Sku.product_id == Product.id, Sku.active.is_(True)))
    .outerjoin(StoreStock, StoreStock.sku_id == Sku.id)
    .where(Merchant.slug == sa.bindparam("slug"))
)
_snapshots: dict[int, Catalog] = {}


@dataclass(frozen=True, slots=True)
class Visit:
    """What a catalog page knows after its one query."""
    catalog: Catalog
    member_id: int | None  # the signed-in member, confirmed to be this merchant's


@dataclass(frozen=True, slots=True)
class ProductVisit(Visit):
    product: ProductView
    stock: dict[int, dict[int, int]]  # {store_id: {sku_id: units on hand}}, every open store, 0 when no row


def for_slug(slug: str, member_ids: Iterable[int] = ()) -> Visit | None:
    """The catalog of the merchant with this slug (None when there is none), and which of `member_ids` (the
    session's) is its member. One indexed SELECT when the process already holds the current snapshot;
    otherwise the snapshot is rebuilt first."""
    # Core on the session's connection: these statements are built once and skip the ORM's execute path.
    row = db.session.connection().execute(_MERCHANT_BY_SLUG, {"slug": slug, "member_ids": list(member_ids)}).first()
    return None if row is None else Visit(_current(row), row.member_id)


def with_stock(slug: str, product_id: int, member_ids: Iterable[int] = ()) -> ProductVisit | None:
    """A product page's one query: `for_slug` joined with the units on hand of the product's active SKUs at
    every store. None when the merchant or the product (on sale) is not found."""
    rows = db.session.connection().execute(
        _MERCHANT_AND_STOCK, {"slug": slug, "product_id": product_id, "member_ids": list(member_ids)}).all()
    if not rows:
        return None
    catalog = _current(rows[0])
    product = catalog.product(product_id)
    if product is None:
        return None
    stock = {s.id: {sku.id: 0 for sku in product.skus} for s in catalog.stores}
    for r in rows:
        at_store = stock.get(r.store_id)
        if at_store is not None and r.sku_id in at_store:
            at_store[r.sku_id] = r.quantity
    return ProductVisit(catalog, rows[0].member_id, product, stock)


def _current(row) -> Catalog:
    cached = _snapshots.get(row.id)
    if cached is not None and cached.rev == row.catalog_rev:
        return cached
    built = _build(MerchantView(row.id, row.slug, row.name), row.catalog_rev)
    _snapshots.pop(row.id, None)
    while len(_snapshots) >= MAX_MERCHANTS:
        _snapshots.pop(next(iter(_snapshots)), None)
    _snapshots[row.id] = built
    return built


def _build(merchant: MerchantView, rev: int) -> Catalog:
    session = db.session
    stores = tuple(
        StoreView(s.id, s.name, s.city, s.address, s.latitude, s.longitude, s.opens_at, s.closes_at, s.phone,
                  s.delivery_radius_m)
        for s in session.execute(
            sa.select(Store.id, Store.name, Store.city, Store.address, Store.latitude, Store.longitude,
                      Store.opens_at, Store.closes_at, Store.phone, Store.delivery_radius_m)
            .where(Store.merchant_id == merchant.id, Store.active.is_(True)).order_by(Store.id))
    )
    categories = tuple(CategoryView(c.id, c.name) for c in session.execute(
        sa.select(Category.id, Category.name).where(Category.merchant_id == merchant.id)
        .order_by(Category.sort, Category.id)))
    skus: dict[int, list[SkuView]] = {}
    for s in session.execute(
            sa.select(Sku.id, Sku.product_id, Sku.name, Sku.price_fen, Sku.member_price_fen)
            .join(Product, Product.id == Sku.product_id)
            .where(Product.merchant_id == merchant.id, Product.active.is_(True), Sku.active.is_(True))
            .order_by(Sku.id)):
        skus.setdefault(s.product_id, []).append(SkuView(s.id, s.name, s.price_fen, s.member_price_fen))
    photos: dict[int, list[str]] = {}
    for ph in session.execute(
            sa.select(ProductPhoto.product_id, ProductPhoto.image)
            .join(Product, Product.id == ProductPhoto.product_id)
            .where(Product.merchant_id == merchant.id, Product.active.is_(True))
            .order_by(ProductPhoto.product_id, ProductPhoto.position)):
        photos.setdefault(ph.product_id, []).append(image_url(ph.image))
    products = []
    for p in session.execute(
            sa.select(Product.id, Product.category_id, Product.name, Product.description, Product.image,
                      Product.featured)
            .where(Product.merchant_id == merchant.id, Product.active.is_(True))
            .order_by(Product.featured.desc(), Product.id)):
        own = tuple(skus.get(p.id, ()))
        if not own:
            continue
        member_prices = [s.member_price_fen for s in own if s.member_price_fen is not None]
        cover = image_url(p.image)
        products.append(ProductView(
            p.id, p.category_id, p.name, p.description or "", p.image, cover, (cover, *photos.get(p.id, ())),
            bool(p.featured), own, min(s.price_fen for s in own), min(member_prices) if member_prices else None,
            f"{p.name}\n{p.description or ''}".casefold()))
    return Catalog(rev, merchant, stores, categories, tuple(products),
                   {s.id: s for s in stores}, {p.id: p for p in products})


def _load_reviews(merchant_id: int, product_id: int) -> ProductReviews:
    count, avg = db.session.execute(
        sa.select(sa.func.count(Review.id), sa.func.avg(Review.rating))
        .where(Review.merchant_id == merchant_id, Review.product_id == product_id)
    ).one()
    rows = db.session.execute(
        sa.select(Review.rating, Review.body, Review.created_at, Member.nickname)
        .join(Member, Member.id == Review.member_id)
        .where(Review.merchant_id == merchant_id, Review.product_id == product_id)
        .order_by(Review.created_at.desc(), Review.id.desc()).limit(RECENT_REVIEWS)
    ).all()
    return ProductReviews(
        ReviewSummary(int(count), round(float(avg), 1) if count else None),
        tuple(ReviewView(r.rating, r.body, mask_name(r.nickname), r.created_at) for r in rows))


# --- stock at a store, read per request ------------------------------------------------------------------------

_IN_STOCK = (
    sa.select(Sku.product_id).distinct().join(StoreStock, StoreStock.sku_id == Sku.id)
    .where(StoreStock.store_id == sa.bindparam("store_id"), StoreStock.quantity > 0, Sku.active.is_(True))
)


def in_stock_at(catalog: Catalog, store_id: int) -> list[ProductView]:
    """Products on sale with at least one active SKU in stock at the store, in catalog order."""
    ids = set(db.session.connection().execute(_IN_STOCK, {"store_id": store_id}).scalars())
    return [p for p in catalog.products if p.id in ids]
