"""Reviews a member writes for what they picked up: one per product per order, after the hand-over."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.catalog.models import Review
from app.core.errors import BadRequest, DomainError
from app.extensions import db
from app.orders.models import Order, OrderStatus

MAX_BODY = 500


class ReviewNotAllowed(DomainError):
    code, status = "review_not_allowed", 409
    zh = "取货后才能评价。"
    en = "You can review after picking up the order."


class AlreadyReviewed(DomainError):
    code, status = "already_reviewed", 409
    zh = "你已评价过这个商品。"
    en = "You have already reviewed this product."


def may_review(order: Order) -> bool:
    return order.status in (OrderStatus.PICKED_UP, OrderStatus.COMPLETED)


def review_of(order: Order, product_id: int) -> Review | None:
    return db.session.execute(sa.select(Review).where(
        Review.order_id == order.id, Review.product_id == product_id)).scalar_one_or_none()


def write_review(order: Order, member_id: int, product_id: int, *, rating: int, body: str, now: datetime) -> Review:
    """Refuses before the pickup, a rating outside 1–5, and a second review (a double tap: the unique
    constraint decides)."""
    if not may_review(order):
        raise ReviewNotAllowed()
    if not 1 <= rating <= 5:
        raise BadRequest(field="rating", zh="请选择 1 到 5 星。", en="Choose 1 to 5 stars.")
    if review_of(order, product_id) is not None:
        raise AlreadyReviewed()
    review = Review(merchant_id=order.merchant_id, product_id=product_id, member_id=member_id, order_id=order.id,
                    rating=rating, body=body.strip()[:MAX_BODY], created_at=now)
    db.session.add(review)
    try:
        db.session.flush()
    except IntegrityError:
        raise AlreadyReviewed() from None
    return review


def waiting_for_review(orders: list[Order], member_id: int) -> list[dict]:
    """[{"order", "line"}] for each product picked up and not yet reviewed, once per order."""
    reviewed = {(o, p) for o, p in db.session.execute(
        sa.select(Review.order_id, Review.product_id).where(Review.member_id == member_id))}
    out = []
    for order in orders:
        if not may_review(order):
            continue
        seen = set()
        for line in order.lines:
            key = (order.id, line.product_id)
            if line.open_quantity and key not in reviewed and key not in seen:
                seen.add(key)
                out.append({"order": order, "line": line})
    return out
