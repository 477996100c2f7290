"""Coupons on an online order: which of a member's coupons apply to a basket and what each saves, the coupon
as a price-quote Discount, and using it (or giving it back) in the order's own transaction.

- One coupon per order. It applies to the lines of the products (or categories) its campaign names, at a
  store that accepts it; a campaign that does not combine with member price skips lines sold at member price.
  What it takes off comes from `rules.amount_off` on those lines' payable (never more than that), split
  across them by the quote (largest remainder, in fen). An exchange coupon makes one unit of its SKU free.
- Using it is two conditional UPDATEs in the order's transaction: the coupon row takes the order's id
  (`WHERE order_id IS NULL`) and its voucher goes `issued` → `redeemed` while valid; two checkouts racing
  with one coupon place one order, and the counter cannot redeem it at the same instant.
- Given back when its order is cancelled or wholly refunded, with its original validity, unless it has
  expired by then (it then stays used; the order page says it was not returned). A partial refund returns
  the refunded lines' paid shares and keeps the coupon used.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.catalog.models import Product, Sku
from app.extensions import db
from app.pricing import AdjustmentKind, PricedSku, Quote, QuoteLine, quote
from app.coupons import rules
from app.coupons.errors import CouponNotUsable, CouponTaken
from app.coupons.models import Campaign, CampaignType, Coupon
from app.vouchers import service as vouchers
from app.vouchers.models import Voucher, VoucherStatus


@dataclass(frozen=True)
class CouponDiscount:
    """A coupon as the quote's `Discount`."""

    coupon_id: int
    campaign: Campaign
    products: dict[int, tuple[int, int | None]]  # sku id -> (product id, category id) of the basket's SKUs
    quantities: dict[int, int]                     # sku id -> quantity in the basket

    kind = AdjustmentKind.COUPON

    @property
    def source(self) -> str:
        return f"coupon:{self.coupon_id}"

    def applies_to(self, line: QuoteLine) -> bool:
        c = self.campaign
        if not c.with_member_price and line.discount_of(AdjustmentKind.MEMBER_PRICE):
            return False
        if c.type is CampaignType.EXCHANGE:
            return line.sku_id == c.sku_id
        if c.all_products:
            return True
        product_id, category_id = self.products.get(line.sku_id, (None, None))
        return product_id in c.product_ids or (category_id is not None and category_id in c.category_ids)

    def amount_off(self, base_fen: int) -> int:
        if self.campaign.type is CampaignType.EXCHANGE:
            quantity = self.quantities.get(self.campaign.sku_id, 0)
            return base_fen // quantity if quantity else 0  # one unit of the line
        return rules.amount_off(self.campaign, base_fen)


@dataclass(frozen=True)
class Option:
    """A coupon the member could use on this basket, and the quote with it."""

    coupon: Coupon
    quote: Quote
    saving_fen: int


def _products(skus: list[PricedSku]) -> dict[int, tuple[int, int | None]]:
    ids = [s.id for s in skus]
    rows = db.session.execute(sa.select(Sku.id, Product.id, Product.category_id).join(Sku.product)
                              .where(Sku.id.in_(ids))).all() if ids else []
    return {sku_id: (product_id, category_id) for sku_id, product_id, category_id in rows}


def _usable_rows(member_id: int, merchant_id: int, store_id: int, now: datetime, coupon_id: int | None = None):
    query = (sa.select(Coupon).join(Coupon.voucher).join(Coupon.campaign).where(
        Coupon.member_id == member_id, Coupon.merchant_id == merchant_id, Coupon.order_id.is_(None),
        Campaign.online.is_(True), Voucher.status == VoucherStatus.ISSUED, Voucher.valid_from <= now,
        sa.or_(Voucher.valid_until.is_(None), Voucher.valid_until > now)).order_by(Voucher.valid_until, Coupon.id))
    if coupon_id is not None:
        query = query.where(Coupon.id == coupon_id)
    return [c for c in db.session.execute(query).unique().scalars()
            if c.voucher.all_stores or store_id in c.voucher.store_ids]


def discount_for(coupon: Coupon, lines: list[tuple[PricedSku, int]]) -> CouponDiscount:
    quantities: dict[int, int] = {}
    for sku, qty in lines:
        quantities[sku.id] = quantities.get(sku.id, 0) + qty
    return CouponDiscount(coupon.id, coupon.campaign, _products([s for s, _ in lines]), quantities)


def options(member_id: int, merchant_id: int, store_id: int, lines: list[tuple[PricedSku, int]], *, member,
            now: datetime) -> list[Option]:
    """The member's coupons that save something on `lines` at `store_id` now, the best saving first (then
    the one expiring soonest)."""
    if not lines:
        return []
    plain = quote(lines, member=member).payable_fen
    found = []
    for coupon in _usable_rows(member_id, merchant_id, store_id, now):
        with_it = quote(lines, member=member, discounts=[discount_for(coupon, lines)])
        if plain - with_it.payable_fen > 0:
            found.append(Option(coupon, with_it, plain - with_it.payable_fen))
    return sorted(found, key=lambda o: -o.saving_fen)  # stable: soonest expiry first among equals


def chosen(member_id: int, merchant_id: int, store_id: int, coupon_id: int, lines: list[tuple[PricedSku, int]], *,
           member, now: datetime) -> CouponDiscount:
    """The discount for the coupon the member chose at checkout, or CouponNotUsable saying why not."""
    rows = _usable_rows(member_id, merchant_id, store_id, now, coupon_id)
    if not rows:
        raise CouponNotUsable(reason="已使用、已过期或本店不可用", _reason_en="used, expired or not accepted at this store")
    discount = discount_for(rows[0], lines)
    if quote(lines, member=member, discounts=[discount]).discount_fen == quote(lines, member=member).discount_fen:
        campaign = rows[0].campaign
        if campaign.type is CampaignType.THRESHOLD:
            raise CouponNotUsable(reason=f"适用商品未满 {campaign.threshold_fen / 100:g} 元",
                                  _reason_en=f"the items it applies to come to less than ¥{campaign.threshold_fen / 100:g}")
        raise CouponNotUsable(reason="没有适用的商品", _reason_en="no item in the order qualifies")
    return discount


def use(coupon_id: int, order_id: int, order_number: str, *, now: datetime) -> None:
    """Spends the coupon on the order, in its transaction; CouponTaken when another order (or the counter)
    got it first."""
    taken = db.session.execute(
        sa.update(Coupon).where(Coupon.id == coupon_id, Coupon.order_id.is_(None)).values(order_id=order_id)
        .execution_options(synchronize_session=False)).rowcount
    coupon = db.session.get(Coupon, coupon_id)
    if taken != 1 or coupon.voucher.status is not VoucherStatus.ISSUED:
        raise CouponTaken()
    if not vouchers.take_online(coupon.voucher, reason=f"订单 {order_number} 使用", now=now):
        raise CouponTaken()
    db.session.expire(coupon)


def coupon_of_order(order_id: int) -> Coupon | None:
    """The coupon an order holds (none once it was given back: giving back clears its order_id)."""
    return db.session.execute(sa.select(Coupon).where(Coupon.order_id == order_id)).scalar_one_or_none()


def give_back(order_id: int, order_number: str, *, now: datetime) -> bool | None:
    """Returns the order's coupon to its owner (the order was cancelled or wholly refunded); None when the
    order used none, False when it had expired and stays used."""
    coupon = coupon_of_order(order_id)
    if coupon is None:
        return None
    if not vouchers.give_back_online(coupon.voucher, reason=f"订单 {order_number} 取消或退款，退回", now=now):
        return False
    db.session.execute(sa.update(Coupon).where(Coupon.id == coupon.id, Coupon.order_id == order_id)
                       .values(order_id=None).execution_options(synchronize_session=False))
    db.session.expire(coupon)
    return True


def state_on_order(order_id: int, sources: list[str], *, closed: bool) -> str | None:
    """What became of the coupon an order used (found by its lines' adjustment sources, `coupon:<id>`): None
    (no coupon), "used", or once the order is cancelled or refunded, "returned" or "not_returned" (expired)."""
    ids = {int(s.split(":", 1)[1]) for s in sources if s.startswith("coupon:") and s.split(":", 1)[1].isdigit()}
    if not ids:
        return None
    if not closed:
        return "used"
    coupon = db.session.get(Coupon, min(ids))
    return "not_returned" if coupon is None or coupon.order_id == order_id else "returned"
