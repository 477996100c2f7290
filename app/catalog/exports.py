"""The merchant's products with their SKUs, as the integrator API (and a product CSV) shows them."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.catalog.models import Product
from app.extensions import db


def products_page(merchant_id: int, page: int, per_page: int) -> tuple[int, list[Product]]:
    """(how many products the merchant has, this page of them by id, SKUs and category loaded)."""
    total = db.session.execute(sa.select(sa.func.count()).select_from(Product)
                               .where(Product.merchant_id == merchant_id)).scalar_one()
    products = db.session.execute(
        sa.select(Product).where(Product.merchant_id == merchant_id).order_by(Product.id)
        .options(selectinload(Product.skus), selectinload(Product.category))
        .limit(per_page).offset((page - 1) * per_page)).scalars().all()
    return total, list(products)


def product_json(product: Product) -> dict:
    return {
        "id": product.id, "name": product.name, "category": product.category.name if product.category else None,
        "description": product.description, "published": product.active, "featured": product.featured,
        "skus": [{"id": s.id, "code": s.code, "name": s.name, "price_fen": s.price_fen,
                  "member_price_fen": s.member_price_fen, "active": s.active} for s in product.skus],
    }
