"""Catalog queries for the shop: stores (nearest first), products with their active SKUs, stock at a
store, reviews. Plain functions; every query is scoped to one merchant. Nothing here writes."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.catalog.models import Category, Product, Review, Sku, StoreStock
from app.extensions import db
from app.members.models import Member
from app.merchants.models import Store

LOW_STOCK = 5  # "仅剩 N 件" at or below this
EARTH_RADIUS_M = 6_371_000


# --- stores -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class NearbyStore:
    store: Store
    distance_m: float | None  # None when the shopper's position is unknown


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def format_distance(metres: float | None) -> str:
    """850 -> '850 m', 1234 -> '1.2 km', 123456 -> '123 km'."""
    if metres is None:
        return ""
    if metres < 1000:
        return f"{int(round(metres, -1))} m"
    km = metres / 1000
    return f"{km:.1f} km" if km < 100 else f"{km:.0f} km"


def active_stores(merchant_id: int) -> list[Store]:
    return list(db.session.execute(
        sa.select(Store).where(Store.merchant_id == merchant_id, Store.active.is_(True)).order_by(Store.id)
    ).scalars())


def stores_near(merchant_id: int, position: tuple[float, float] | None) -> list[NearbyStore]:
    """The merchant's open stores; nearest first when `position` (lat, lng) is known, else in id order.
    A merchant has a handful of stores, so distances are computed here rather than in SQL."""
    stores = active_stores(merchant_id)
    if position is None:
        return [NearbyStore(s, None) for s in stores]
    lat, lng = position
    near = [NearbyStore(s, haversine_m(lat, lng, s.latitude, s.longitude)) for s in stores]
    return sorted(near, key=lambda n: (n.distance_m, n.store.id))


def store_of(merchant_id: int, store_id: int | None) -> Store | None:
    """An open store of this merchant, or None (another merchant's id is None too)."""
    if not store_id:
        return None
    return db.session.execute(
        sa.select(Store).where(Store.id == store_id, Store.merchant_id == merchant_id, Store.active.is_(True))
    ).scalar_one_or_none()


def is_open(store: Store, at_local: time) -> bool:
    """Open at this Shanghai wall-clock time; a store closing after midnight (22:00–02:00) counts too."""
    if store.opens_at <= store.closes_at:
        return store.opens_at <= at_local < store.closes_at
    return at_local >= store.opens_at or at_local < store.closes_at


# --- products ---------------------------------------------------------------------------------------

def _with_active_skus(stmt: sa.Select) -> sa.Select:
    # One extra SELECT ... IN for all SKUs of all listed products; only SKUs on sale.
    return stmt.options(selectinload(Product.skus.and_(Sku.active.is_(True))))


def categories(merchant_id: int) -> list[Category]:
    return list(db.session.execute(
        sa.select(Category).where(Category.merchant_id == merchant_id).order_by(Category.sort, Category.id)
    ).scalars())


def search_products(merchant_id: int, *, q: str | None = None, category_id: int | None = None,
                    featured: bool | None = None) -> list[Product]:
    """Products on sale, featured first. `q` matches name or description, case-insensitively, as a plain
    substring (% and _ are literal) on SQLite and PostgreSQL alike."""
    stmt = sa.select(Product).where(Product.merchant_id == merchant_id, Product.active.is_(True))
    q = (q or "").strip()
    if q:
        stmt = stmt.where(sa.or_(Product.name.icontains(q, autoescape=True),
                                 Product.description.icontains(q, autoescape=True)))
    if category_id is not None:
        stmt = stmt.where(Product.category_id == category_id)
    if featured is not None:
        stmt = stmt.where(Product.featured.is_(featured))
    stmt = stmt.order_by(Product.featured.desc(), Product.id)
    return [p for p in db.session.execute(_with_active_skus(stmt)).scalars() if p.skus]


def product_of(merchant_id: int, product_id: int) -> Product | None:
    """A product on sale of this merchant, its active SKUs loaded; None for another merchant's id."""
    stmt = sa.select(Product).where(Product.id == product_id, Product.merchant_id == merchant_id,
                                    Product.active.is_(True))
    return db.session.execute(_with_active_skus(stmt)).scalar_one_or_none()


def products_in_stock(merchant_id: int, store_id: int) -> list[Product]:
    """Products with at least one active SKU in stock at the store."""
    in_stock = (
        sa.select(Sku.id).join(StoreStock, StoreStock.sku_id == Sku.id)
        .where(Sku.product_id == Product.id, Sku.active.is_(True), StoreStock.store_id == store_id,
               StoreStock.quantity > 0)
    )
    stmt = (sa.select(Product)
            .where(Product.merchant_id == merchant_id, Product.active.is_(True), in_stock.exists())
            .order_by(Product.featured.desc(), Product.id))
    return list(db.session.execute(_with_active_skus(stmt)).scalars())


def stock_table(store_ids: list[int], sku_ids: list[int]) -> dict[int, dict[int, int]]:
    """Units on hand, {store_id: {sku_id: quantity}}, for every pair, in one query; a missing row is 0."""
    table = {store_id: {sku_id: 0 for sku_id in sku_ids} for store_id in store_ids}
    if not store_ids or not sku_ids:
        return table
    rows = db.session.execute(
        sa.select(StoreStock.store_id, StoreStock.sku_id, StoreStock.quantity)
        .where(StoreStock.store_id.in_(store_ids), StoreStock.sku_id.in_(sku_ids))
    ).all()
    for store_id, sku_id, quantity in rows:
        table[store_id][sku_id] = quantity
    return table


def stock_level(quantity: int) -> str:
    """'out' (已售罄), 'low' (仅剩 N 件) or 'ok' (有货)."""
    if quantity <= 0:
        return "out"
    return "low" if quantity <= LOW_STOCK else "ok"


def price_to_pay(sku: Sku, member: Member | None) -> int:
    """A signed-in member pays the member price when there is one."""
    if member is not None and sku.member_price_fen is not None:
        return sku.member_price_fen
    return sku.price_fen


# --- reviews ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReviewSummary:
    count: int
    average: float | None  # rounded to one decimal

    @property
    def stars(self) -> int:
        return int(round(self.average or 0))


@dataclass(frozen=True)
class ReviewView:
    rating: int
    body: str
    author: str
    created_at: datetime


def review_summary(merchant_id: int, product_id: int) -> ReviewSummary:
    count, avg = db.session.execute(
        sa.select(sa.func.count(Review.id), sa.func.avg(Review.rating))
        .where(Review.merchant_id == merchant_id, Review.product_id == product_id)
    ).one()
    return ReviewSummary(int(count), round(float(avg), 1) if count else None)


def mask_name(name: str) -> str:
    """'张小明' -> '张**': reviews are public, nicknames are not."""
    name = (name or "").strip()
    if not name:
        return "匿名"
    return name[0] + "**"


def recent_reviews(merchant_id: int, product_id: int, limit: int = 10) -> list[ReviewView]:
    rows = db.session.execute(
        sa.select(Review.rating, Review.body, Review.created_at, Member.nickname)
        .join(Member, Member.id == Review.member_id)
        .where(Review.merchant_id == merchant_id, Review.product_id == product_id)
        .order_by(Review.created_at.desc(), Review.id.desc()).limit(limit)
    ).all()
    return [ReviewView(r.rating, r.body, mask_name(r.nickname), r.created_at) for r in rows]
