"""What the merchant console does with pre-sales: edit campaigns (every rule refused in words), list them with
their deposits, balances and missed balances, and a campaign's orders with their refund states. Every query
goes through the actor's Scope; every change is in the audit log in its transaction."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.catalog.models import Product, Sku, catalog_changed
from app.core import tasks
from app.core.errors import BadRequest
from app.extensions import db
from app.members.models import Member
from app.merchants import audit
from app.merchants.models import Store
from app.merchants.scope import Scope, register
from app.orders.models import Order
from app.payments.models import Refund
from app.presales.models import PresaleCampaign, CampaignStatus, MissedBalance, PresaleOrder, PresaleOrderStatus

# A store manager reads the pre-sales picked up at their store; editing is not theirs (the permission table).
register(PresaleCampaign, lambda scope: [PresaleCampaign.store_id == scope.store_id])

FIELDS = ("title", "sku_id", "store_id", "full_price_fen", "deposit_fen", "deposit_value_fen", "deposit_starts_at",
          "deposit_ends_at", "balance_starts_at", "balance_ends_at", "pickup_from", "pickup_after_days",
          "stock_total", "per_member_limit", "missed_balance", "coupons_on_balance", "rules", "status")


@dataclass(frozen=True)
class CampaignInput:
    title: str
    sku_id: int
    store_id: int
    full_price_fen: int
    deposit_fen: int
    deposit_value_fen: int
    deposit_starts_at: datetime
    deposit_ends_at: datetime
    balance_starts_at: datetime
    balance_ends_at: datetime
    pickup_from: datetime | None
    pickup_after_days: int | None
    stock_total: int
    per_member_limit: int
    missed_balance: MissedBalance
    coupons_on_balance: bool
    rules: str
    status: CampaignStatus


def _refuse(field: str, zh: str, en: str):
    raise BadRequest(field=field, zh=zh, en=en)


def check(scope: Scope, d: CampaignInput) -> None:
    """Every rule of a campaign, refused in words (the first one broken)."""
    sku = db.session.execute(sa.select(Sku).join(Product, Product.id == Sku.product_id).where(
        Sku.id == d.sku_id, Product.merchant_id == scope.merchant_id)).scalar_one_or_none()
    if sku is None:
        _refuse("sku_id", "请选择本店的商品规格。", "Choose one of your SKUs.")
    scope.get(Store, d.store_id)
    if d.full_price_fen <= 0:
        _refuse("full_price", "预售价须大于 0。", "The full price must be more than 0.")
    if d.deposit_fen <= 0:
        _refuse("deposit", "定金须大于 0。", "The deposit must be more than 0.")
    if d.deposit_value_fen < d.deposit_fen:
        _refuse("deposit_value", "定金抵扣金额不能低于定金（定金膨胀：例如付 ¥50 抵 ¥100）。",
                "The deposit's value cannot be less than the deposit (e.g. pay ¥50, worth ¥100).")
    if d.deposit_value_fen >= d.full_price_fen:
        _refuse("deposit_value", "定金抵扣金额须低于预售价，尾款才大于 0。",
                "The deposit's value must be below the full price, so that a balance remains.")
    if d.deposit_starts_at >= d.deposit_ends_at:
        _refuse("deposit_ends_at", "定金结束时间须晚于开始时间。", "The deposit window must end after it starts.")
    if d.balance_starts_at >= d.balance_ends_at:
        _refuse("balance_ends_at", "尾款结束时间须晚于开始时间。", "The balance window must end after it starts.")
    if d.deposit_ends_at > d.balance_starts_at:
        _refuse("balance_starts_at", "尾款开始时间不能早于定金结束时间。",
                "The balance window cannot start before the deposit window ends.")
    if (d.pickup_from is None) == (d.pickup_after_days is None):
        _refuse("pickup", "请选择取货方式：指定日期起，或付尾款后 N 天起（二选一）。",
                "Choose the pickup rule: from a date, or N days after the balance is paid (one of the two).")
    if d.pickup_after_days is not None and d.pickup_after_days < 0:
        _refuse("pickup_after_days", "付尾款后天数不能为负数。", "The days after the balance cannot be negative.")
    if d.pickup_from is not None and d.pickup_from < d.balance_starts_at:
        _refuse("pickup_from", "取货日期不能早于尾款开始时间。", "Pickup cannot start before the balance window opens.")
    if d.stock_total < 1 or d.per_member_limit < 1:
        _refuse("stock_total", "预售库存与每人限购须为正数。", "Stock and the per-person limit must be positive.")


# What a shopper agreed to when paying a deposit: fixed once anyone has ordered.
DEAL = ("sku_id", "store_id", "full_price_fen", "deposit_fen", "deposit_value_fen", "missed_balance")


def _keep_the_deal(campaign: PresaleCampaign, values: dict) -> None:
    ordered = db.session.execute(sa.select(sa.func.count()).select_from(PresaleOrder)
                                 .where(PresaleOrder.campaign_id == campaign.id)).scalar()
    changed = [f for f in DEAL if ordered and values[f] != getattr(campaign, f)]
    if changed:
        _refuse(changed[0], "已有顾客下单：商品、门店、价格、定金、抵扣金额和未付尾款规则不能再改（时间、库存、规则说明可改）。",
                "Customers have ordered: the SKU, store, prices, deposit, its value and the missed-balance rule "
                "are fixed (the windows, stock and rules text may change).")


def save_campaign(scope: Scope, campaign_id: int | None, d: CampaignInput) -> PresaleCampaign:
    check(scope, d)
    catalog_changed([scope.merchant_id])  # the product pages list pre-sales with the catalog snapshot
    values = {name: getattr(d, name) for name in FIELDS}
    values["title"] = d.title[:60]
    if campaign_id is None:
        campaign = PresaleCampaign(merchant_id=scope.merchant_id, stock_left=d.stock_total, **values)
        db.session.add(campaign)
        db.session.flush()
        audit.record(scope, "presale.create", "presale_campaign", campaign.id, after=audit.summary(campaign, FIELDS))
        return campaign
    campaign = scope.get(PresaleCampaign, campaign_id)
    _keep_the_deal(campaign, values)
    before = audit.summary(campaign, FIELDS)
    delta = d.stock_total - campaign.stock_total
    # The total and the units left move together, by one conditional update: never below what deposits hold
    # (they may be landing meanwhile), never above the total (a CHECK).
    moved = db.session.execute(
        sa.update(PresaleCampaign).where(PresaleCampaign.id == campaign.id,
                                         PresaleCampaign.stock_total == campaign.stock_total,
                                         PresaleCampaign.stock_left + delta >= 0)
        .values(stock_total=d.stock_total, stock_left=PresaleCampaign.stock_left + delta)
        .execution_options(synchronize_session=False)).rowcount
    if moved != 1:
        held = campaign.stock_total - campaign.stock_left
        _refuse("stock_total", f"已有 {held} 件被预订，库存不能少于此数。",
                f"{held} units are already reserved; the stock cannot be less.")
    db.session.expire(campaign)
    for name, value in values.items():
        setattr(campaign, name, value)
    db.session.flush()
    old, new = audit.changed(before, audit.summary(campaign, FIELDS))
    if new:
        audit.record(scope, "presale.update", "presale_campaign", campaign.id, before=old, after=new)
    return campaign


def campaigns(scope: Scope) -> list[PresaleCampaign]:
    return list(db.session.execute(scope.select(PresaleCampaign).order_by(PresaleCampaign.id.desc())).scalars())


def counts(scope: Scope) -> dict[int, dict[PresaleOrderStatus, int]]:
    """Per campaign, its orders by status: deposits paid (waiting), balances paid, missed."""
    ids = [c.id for c in campaigns(scope)]
    out: dict[int, dict[PresaleOrderStatus, int]] = {i: {} for i in ids}
    if ids:
        for cid, status, n in db.session.execute(
                sa.select(PresaleOrder.campaign_id, PresaleOrder.status, sa.func.count())
                .where(PresaleOrder.campaign_id.in_(ids)).group_by(PresaleOrder.campaign_id, PresaleOrder.status)):
            out[cid][status] = n
    return out


def orders_of(scope: Scope, campaign_id: int) -> list[tuple]:
    """A campaign's orders: (presale order, order, member name, refunds)."""
    campaign = scope.get(PresaleCampaign, campaign_id)
    rows = db.session.execute(
        sa.select(PresaleOrder, Order, Member).join(Order, Order.id == PresaleOrder.order_id)
        .join(Member, Member.id == PresaleOrder.member_id)
        .where(PresaleOrder.campaign_id == campaign.id).order_by(PresaleOrder.order_id.desc())).all()
    refunds: dict[int, list[Refund]] = {}
    if rows:
        for r in db.session.execute(sa.select(Refund).where(Refund.order_id.in_([o.id for _, o, _ in rows]))).scalars():
            refunds.setdefault(r.order_id, []).append(r)
    return [(p, o, m.display_name, refunds.get(o.id, [])) for p, o, m in rows]


# ---------------------------------------------------------------- demo only (the web door refuses in production)

def _depositors(campaign_id: int) -> list[int]:
    return list(db.session.execute(sa.select(PresaleOrder.order_id).where(
        PresaleOrder.campaign_id == campaign_id, PresaleOrder.status == PresaleOrderStatus.DEPOSIT_PAID)).scalars())


def demo_open_balance(scope: Scope, campaign_id: int, now: datetime) -> None:
    """Demo: deposits close and the balance window opens now, so a newcomer need not wait for it; depositors
    are told as when the window opens by itself."""
    c = scope.get(PresaleCampaign, campaign_id)
    if not c.deposit_starts_at < now < c.balance_starts_at:
        _refuse("balance_starts_at", "只能在定金开始后、尾款开始前提前开始尾款。",
                "The balance can only be brought forward after deposits opened and before it started.")
    audit.change(scope, c, {"deposit_ends_at": min(c.deposit_ends_at, now), "balance_starts_at": now},
                 fields=("deposit_ends_at", "balance_starts_at"), action="presale.demo_open_balance",
                 object_type="presale_campaign")
    catalog_changed([scope.merchant_id])
    for order_id in _depositors(c.id):
        tasks.enqueue("presales.announce_if_due", order_id)


def demo_close_balance(scope: Scope, campaign_id: int, now: datetime) -> None:
    """Demo: the balance window closes now; every unpaid balance is settled by the campaign's rule."""
    c = scope.get(PresaleCampaign, campaign_id)
    if not c.balance_starts_at < now < c.balance_ends_at:
        _refuse("balance_ends_at", "只能在尾款支付期间提前结束尾款。",
                "The balance window can only be closed early while it is open.")
    audit.change(scope, c, {"balance_ends_at": now}, fields=("balance_ends_at",),
                 action="presale.demo_close_balance", object_type="presale_campaign")
    for order_id in _depositors(c.id):
        tasks.enqueue("presales.settle_if_missed", order_id)
