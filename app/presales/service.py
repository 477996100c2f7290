"""Pre-sales for shoppers: the campaigns a product page shows with their rules in full, placing a deposit
order (the campaign's stock taken by one conditional UPDATE), the balance window and the pickup date."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.catalog.models import Sku
from app.core.clock import month_day_time, shanghai_today, start_of_day
from app.core.errors import BadRequest, NotFound
from app.extensions import db
from app.members import service as members
from app.members.models import Member
from app.merchants.models import Merchant, Store
from app.orders import staged
from app.coupons import checkout as coupon_checkout
from app.orders.models import Order, OrderStatus
from app.payments.models import PayMethod
from app.pricing import AdjustmentKind, quote
from app.presales.errors import BalanceNotOpen, PresaleLimit, PresaleSoldOut, PresaleUnavailable
from app.presales.models import PresaleCampaign, CampaignStatus, MissedBalance, PresaleOrder, PresaleOrderStatus


def window_text(start: datetime, end: datetime, lang: str = "zh") -> str:
    """「11月24日 14:00 – 11月26日 14:00」 in Shanghai time ('Nov 24 14:00 – Nov 26 14:00' in English)."""
    return f"{month_day_time(start, lang)} – {month_day_time(end, lang)}"


@dataclass(frozen=True)
class Rules:
    """Everything a shopper agrees to before paying a deposit, as the product page and the order page say it
    (times as instants: the pages word them in the reader's language)."""
    full_price_fen: int
    deposit_fen: int
    deposit_value_fen: int
    balance_fen: int
    deposit_starts_at: datetime
    deposit_ends_at: datetime
    balance_starts_at: datetime
    balance_ends_at: datetime
    pickup_from: datetime | None   # from this date ...
    pickup_after_days: int | None  # ... or N days after the balance is paid
    refundable: bool               # a missed balance refunds the deposit
    coupons_on_balance: bool
    text: str


def rules_of(c: PresaleCampaign) -> Rules:
    return Rules(c.full_price_fen, c.deposit_fen, c.deposit_value_fen, c.balance_fen, c.deposit_starts_at,
                 c.deposit_ends_at, c.balance_starts_at, c.balance_ends_at, c.pickup_from, c.pickup_after_days,
                 c.missed_balance is MissedBalance.REFUND, c.coupons_on_balance, c.rules)


def taking_deposits(c: PresaleCampaign, now: datetime) -> bool:
    return c.status is CampaignStatus.ACTIVE and c.deposit_starts_at <= now < c.deposit_ends_at


def active_campaign(merchant_id: int, campaign_id: int) -> PresaleCampaign:
    c = db.session.get(PresaleCampaign, campaign_id)
    if c is None or c.merchant_id != merchant_id or c.status is CampaignStatus.DRAFT:
        raise NotFound()
    return c


def taken_by(campaign_id: int, member_id: int) -> int:
    """Units this member holds in the campaign (placed, deposit paid, or balance paid)."""
    return db.session.execute(sa.select(sa.func.coalesce(sa.func.sum(PresaleOrder.quantity), 0)).where(
        PresaleOrder.campaign_id == campaign_id, PresaleOrder.member_id == member_id,
        PresaleOrder.status.in_([PresaleOrderStatus.PLACED, PresaleOrderStatus.DEPOSIT_PAID,
                                 PresaleOrderStatus.BALANCE_PAID]))).scalar()


def place_deposit(merchant: Merchant, member: Member, campaign_id: int, *, quantity: int, pay_method: PayMethod,
                  now: datetime) -> Order:
    """A deposit order for `quantity` units: refused in words outside the deposit window, past the member's
    limit, or when the campaign's stock is gone. The stock is taken last, by one conditional UPDATE (two
    shoppers racing for the last unit cannot both win; a CHECK keeps it at zero or above)."""
    c = active_campaign(merchant.id, campaign_id)
    if not taking_deposits(c, now):
        raise PresaleUnavailable(window=window_text(c.deposit_starts_at, c.deposit_ends_at),
                                 _window_en=window_text(c.deposit_starts_at, c.deposit_ends_at, "en"))
    if quantity < 1 or quantity > c.per_member_limit:
        raise BadRequest(field="quantity", zh=f"数量须在 1 到 {c.per_member_limit} 之间。",
                         en=f"Quantity must be 1 to {c.per_member_limit}.")
    if pay_method is PayMethod.STORE:
        raise BadRequest(field="pay", zh="预售定金须在线支付。", en="A pre-sale deposit is paid online.")
    # One member's deposits are placed one at a time, so two taps cannot both pass the limit.
    members.one_at_a_time(member.id)
    taken = taken_by(c.id, member.id)
    if taken + quantity > c.per_member_limit:
        raise PresaleLimit(limit=c.per_member_limit, taken=taken)
    sku = db.session.execute(sa.select(Sku).where(Sku.id == c.sku_id).options(selectinload(Sku.product))).scalar_one()
    store = db.session.get(Store, c.store_id)
    order = staged.place(merchant, store, member, sku, quantity=quantity, full_price_fen=c.full_price_fen,
                         deposit_fen=c.deposit_fen, deposit_value_fen=c.deposit_value_fen,
                         source=f"presale:{c.id}", pay_method=pay_method)
    db.session.add(PresaleOrder(order_id=order.id, campaign_id=c.id, member_id=member.id, quantity=quantity,
                                status=PresaleOrderStatus.PLACED, created_at=now))
    db.session.flush()
    got = db.session.execute(
        sa.update(PresaleCampaign).where(PresaleCampaign.id == c.id, PresaleCampaign.stock_left >= quantity)
        .values(stock_left=PresaleCampaign.stock_left - quantity).execution_options(synchronize_session=False)).rowcount
    if got != 1:
        raise PresaleSoldOut()
    return order


def presale_of(order_id: int) -> PresaleOrder | None:
    return db.session.execute(sa.select(PresaleOrder).where(PresaleOrder.order_id == order_id)).scalar_one_or_none()


def campaign_of(order: Order) -> PresaleCampaign | None:
    p = presale_of(order.id)
    return db.session.get(PresaleCampaign, p.campaign_id) if p else None


def may_pay_balance(order: Order, now: datetime) -> None:
    """orders.staged asks before opening the balance payment: only inside the balance window."""
    staged.refuse_unless_deposit_paid(order)
    c = campaign_of(order)
    if c is not None and not (c.balance_starts_at <= now < c.balance_ends_at):
        raise BalanceNotOpen(window=window_text(c.balance_starts_at, c.balance_ends_at),
                             _window_en=window_text(c.balance_starts_at, c.balance_ends_at, "en"))


def pickup_from(c: PresaleCampaign, balance_paid_at: datetime) -> datetime:
    """The moment the pickup voucher becomes valid: the campaign's date, or the start of the Shanghai day N
    days after the balance was paid."""
    if c.pickup_from is not None:
        return c.pickup_from
    day = shanghai_today(balance_paid_at) + timedelta(days=c.pickup_after_days or 0)
    return max(balance_paid_at, start_of_day(day))


def hand_over_from(order: Order, paid_at: datetime) -> datetime | None:
    c = campaign_of(order)
    return pickup_from(c, paid_at) if c is not None else None


def register_with_orders() -> None:
    staged.register(may_pay_balance=may_pay_balance, hand_over_from=hand_over_from)


@dataclass(frozen=True)
class Card:
    """A pre-sale as the product page lists it (kept with the catalog snapshot: no ORM rows)."""
    id: int
    title: str
    sku_id: int
    deposit_starts_at: datetime
    deposit_ends_at: datetime
    rules: Rules


def cards_for_product(merchant_id: int, product_id: int) -> tuple[Card, ...]:
    """Active pre-sales of a product, deposits not yet closed at the time of reading (the page filters by now)."""
    rows = db.session.execute(
        sa.select(PresaleCampaign).join(Sku, Sku.id == PresaleCampaign.sku_id)
        .where(PresaleCampaign.merchant_id == merchant_id, Sku.product_id == product_id,
               PresaleCampaign.status == CampaignStatus.ACTIVE).order_by(PresaleCampaign.deposit_starts_at)).scalars()
    return tuple(Card(c.id, c.title, c.sku_id, c.deposit_starts_at, c.deposit_ends_at, rules_of(c)) for c in rows)


@dataclass(frozen=True)
class OrderView:
    """What the order page says about a pre-sale order: the rules agreed to, and what is due when."""
    campaign: PresaleCampaign
    presale: PresaleOrder
    rules: Rules
    deposit_fen: int
    balance_fen: int
    balance_open: bool      # the window is open now: 支付尾款
    balance_soon: bool      # not yet open
    pickup_from: datetime | None
    coupons: list           # the member's coupons usable on the balance now (when the campaign allows it)


def order_view(order: Order, now: datetime) -> OrderView | None:
    p = presale_of(order.id)
    if p is None:
        return None
    c = db.session.get(PresaleCampaign, p.campaign_id)
    return OrderView(c, p, rules_of(c), order.deposit_fen, order.total_fen - order.deposit_fen,
                     p.status is PresaleOrderStatus.DEPOSIT_PAID and c.balance_starts_at <= now < c.balance_ends_at,
                     p.status is PresaleOrderStatus.DEPOSIT_PAID and now < c.balance_starts_at,
                     order.hand_over_from or c.pickup_from,
                     balance_coupons(order, db.session.get(Member, order.member_id), now))


# ---------------------------------------------------------------- coupons on the balance

@dataclass(frozen=True)
class BalanceSku:
    """The campaign's SKU priced at its balance per unit: what a coupon on the balance is quoted against
    (a 满减's threshold and a percentage are measured on the balance, not on the deposit already paid)."""
    id: int
    price_fen: int
    member_price_fen: int | None = None


def _balance_lines(order: Order, c: PresaleCampaign) -> list:
    p = presale_of(order.id)
    return [(BalanceSku(c.sku_id, c.balance_fen), p.quantity)]


def balance_coupons(order: Order, member: Member, now: datetime) -> list:
    """The member's coupons that save something on this order's balance, best first; [] unless the campaign
    lets coupons apply to the balance, the window is open and no coupon is on the order yet."""
    c = campaign_of(order)
    if c is None or not c.coupons_on_balance or order.status is not OrderStatus.DEPOSIT_PAID \
            or not (c.balance_starts_at <= now < c.balance_ends_at) \
            or any(a.kind is AdjustmentKind.COUPON for line in order.lines for a in line.adjustments):
        return []
    return coupon_checkout.options(member.id, order.merchant_id, order.store_id, _balance_lines(order, c),
                                   member=None, now=now)


def use_coupon_on_balance(order: Order, member: Member, coupon_id: int, now: datetime) -> None:
    """Applies one of the member's coupons to the balance (refused in words when the campaign does not allow
    it, outside the window, or when the coupon does not apply)."""
    c = campaign_of(order)
    if c is None or order.member_id != member.id:
        raise NotFound()
    if not c.coupons_on_balance:
        raise BadRequest(field="coupon", zh="本预售的尾款不可使用优惠券。", en="Coupons do not apply to this balance.")
    may_pay_balance(order, now)
    lines = _balance_lines(order, c)
    discount = coupon_checkout.chosen(member.id, order.merchant_id, order.store_id, coupon_id, lines, member=None,
                                      now=now)
    amount = quote(lines, discounts=[discount]).discount_fen
    staged.coupon_on_balance(order, coupon_id=coupon_id, source=discount.source, amount_fen=amount, now=now)
