"""What the merchant console does with group-buys: edit campaigns, read teams (members, their orders and
refund states), the success rate, refunds of group-buy orders not yet through (with a manual retry), and,
outside production, end a team's time for a demo. Every query goes through the actor's Scope; every change
is in the audit log in its transaction. A team only ever completes with real paying members: nothing here
adds, fakes or completes one."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.catalog.models import Product, Sku
from app.core.clock import now_utc
from app.core.errors import BadRequest, NotFound
from app.extensions import db
from app.groupbuys import lifecycle
from app.groupbuys.models import (
    CampaignStatus, GroupBuyCampaign, GroupBuyCampaignStore, Seat, SeatStatus, Team, TeamStatus,
)
from app.members.models import Member
from app.merchants import audit
from app.merchants.models import Store
from app.merchants.scope import Scope, register
from app.orders.models import Order, OrderKind
from app.payments import service as payments
from app.payments.models import Refund, RefundStatus

# A store manager reads the campaigns picked up at their store and their store's teams; editing is not theirs
# (the permission table).
register(GroupBuyCampaign, lambda scope: [sa.exists().where(GroupBuyCampaignStore.campaign_id == GroupBuyCampaign.id,
                                                            GroupBuyCampaignStore.store_id == scope.store_id)])
register(Team, lambda scope: [Team.store_id == scope.store_id])

# The campaign's own columns; its pickup stores are links, in the audit log as "store_ids" (a list).
CAMPAIGN_FIELDS = ("title", "sku_id", "group_price_fen", "leader_price_fen", "team_size", "time_limit_hours",
                   "starts_at", "ends_at", "stock_left", "per_member_limit", "rules", "status")


@dataclass(frozen=True)
class CampaignInput:
    title: str
    sku_id: int
    group_price_fen: int
    leader_price_fen: int | None
    team_size: int
    time_limit_hours: int
    starts_at: datetime
    ends_at: datetime
    stock_left: int
    per_member_limit: int
    store_ids: list[int]
    rules: str
    status: CampaignStatus


def _check(scope: Scope, data: CampaignInput) -> None:
    sku = db.session.execute(sa.select(Sku).join(Product, Product.id == Sku.product_id).where(
        Sku.id == data.sku_id, Product.merchant_id == scope.merchant_id)).scalar_one_or_none()
    if sku is None:
        raise BadRequest(field="sku_id", zh="请选择本店的商品规格。", en="Choose one of your SKUs.")
    if not 2 <= data.team_size <= 10:
        raise BadRequest(field="team_size", zh="成团人数须在 2 到 10 之间。", en="A team has 2 to 10 members.")
    if data.group_price_fen >= sku.price_fen:
        raise BadRequest(field="group_price_fen", zh="拼团价须低于原价。", en="The group price must be below the usual price.")
    if data.leader_price_fen is not None and data.leader_price_fen > data.group_price_fen:
        raise BadRequest(field="leader_price_fen", zh="团长价不能高于拼团价。",
                         en="The leader's price cannot be above the group price.")
    if data.time_limit_hours < 1:
        raise BadRequest(field="time_limit_hours", zh="成团时限至少 1 小时。", en="The time limit is at least 1 hour.")
    if data.starts_at >= data.ends_at:
        raise BadRequest(field="ends_at", zh="结束时间须晚于开始时间。", en="The end must be after the start.")
    if data.stock_left < 0 or data.per_member_limit < 1:
        raise BadRequest(field="stock_left", zh="库存与限购须为正数。", en="Stock and limit must be positive.")
    if not data.store_ids:
        raise BadRequest(field="store_ids", zh="请至少选择一家取货门店。", en="Choose at least one pickup store.")
    wanted = set(data.store_ids)
    usable = set(db.session.execute(scope.select(Store, Store.id).where(Store.id.in_(wanted),
                                                                        Store.active.is_(True))).scalars())
    if wanted - usable:  # another merchant's store, a closed one, or none at all: as if it did not exist
        raise NotFound()


def _summary(campaign: GroupBuyCampaign) -> dict:
    return {**audit.summary(campaign, CAMPAIGN_FIELDS), "store_ids": campaign.pickup_store_ids}


def _link_stores(campaign: GroupBuyCampaign, store_ids: list[int]) -> None:
    """The campaign's pickup stores become exactly `store_ids`: links to other stores go, missing ones come."""
    wanted = set(store_ids)
    kept = [link for link in campaign.store_links if link.store_id in wanted]
    have = {link.store_id for link in kept}
    if len(kept) != len(campaign.store_links) or have != wanted:
        campaign.store_links = kept + [GroupBuyCampaignStore(store_id=s) for s in sorted(wanted - have)]


def save_campaign(scope: Scope, campaign_id: int | None, data: CampaignInput) -> GroupBuyCampaign:
    """Creates or edits a campaign, its pickup stores only the merchant's own open stores (anything else is
    NotFound, as another merchant's row is everywhere in the console); the audit log gets what changed."""
    _check(scope, data)
    values = {name: getattr(data, name) for name in CAMPAIGN_FIELDS}
    values["title"] = data.title[:60]
    if campaign_id is None:
        campaign = GroupBuyCampaign(merchant_id=scope.merchant_id, **values)
        _link_stores(campaign, data.store_ids)
        db.session.add(campaign)
        db.session.flush()
        audit.record(scope, "groupbuy.create", "groupbuy_campaign", campaign.id, after=_summary(campaign))
        return campaign
    campaign = scope.get(GroupBuyCampaign, campaign_id)
    before = _summary(campaign)
    for name, value in values.items():
        setattr(campaign, name, value)
    _link_stores(campaign, data.store_ids)
    db.session.flush()
    old, new = audit.changed(before, _summary(campaign))
    if new:
        audit.record(scope, "groupbuy.update", "groupbuy_campaign", campaign.id, before=old, after=new)
    return campaign


def campaigns(scope: Scope) -> list[GroupBuyCampaign]:
    return list(db.session.execute(scope.select(GroupBuyCampaign).order_by(GroupBuyCampaign.id.desc())).scalars())


@dataclass(frozen=True)
class Rate:
    complete: int
    failed: int
    forming: int

    @property
    def percent(self) -> int | None:
        """Teams that completed, of those that ended by completing or failing (closed ones never opened or
        were left by everyone)."""
        done = self.complete + self.failed
        return round(100 * self.complete / done) if done else None


def success_rates(scope: Scope) -> dict[int, Rate]:
    rows = db.session.execute(scope.select(Team, Team.campaign_id, Team.status, sa.func.count())
                              .group_by(Team.campaign_id, Team.status)).all()
    counts: dict[int, dict[TeamStatus, int]] = {}
    for campaign_id, status, n in rows:
        counts.setdefault(campaign_id, {})[status] = n
    return {cid: Rate(c.get(TeamStatus.COMPLETE, 0), c.get(TeamStatus.FAILED, 0), c.get(TeamStatus.FORMING, 0))
            for cid, c in counts.items()}


@dataclass(frozen=True)
class MemberRow:
    seat: Seat
    member: Member
    order: Order | None
    refunds: list[Refund]


@dataclass(frozen=True)
class TeamRow:
    team: Team
    store: Store
    members: list[MemberRow]


def teams(scope: Scope, campaign_id: int, status: str = "", limit: int = 100) -> list[TeamRow]:
    """The campaign's teams (newest first), each with its members, their orders and refund states."""
    query = scope.select(Team).where(Team.campaign_id == campaign_id).order_by(Team.id.desc()).limit(limit)
    if status in {s.value for s in TeamStatus}:
        query = query.where(Team.status == TeamStatus(status))
    found = list(db.session.execute(query).scalars())
    if not found:
        return []
    ids = [t.id for t in found]
    seats = db.session.execute(sa.select(Seat, Member, Order).join(Member, Member.id == Seat.member_id)
                               .outerjoin(Order, Order.id == Seat.order_id)
                               .where(Seat.team_id.in_(ids)).order_by(Seat.id)).all()
    order_ids = [o.id for _, _, o in seats if o is not None]
    refunds: dict[int, list[Refund]] = {}
    if order_ids:
        for r in db.session.execute(sa.select(Refund).where(Refund.order_id.in_(order_ids)).order_by(Refund.id)).scalars():
            refunds.setdefault(r.order_id, []).append(r)
    stores = {s.id: s for s in db.session.execute(sa.select(Store).where(
        Store.id.in_({t.store_id for t in found}))).scalars()}
    by_team: dict[int, list[MemberRow]] = {i: [] for i in ids}
    for seat, member, order in seats:
        by_team[seat.team_id].append(MemberRow(seat, member, order, refunds.get(order.id, []) if order else []))
    return [TeamRow(t, stores[t.store_id], by_team[t.id]) for t in found]


def open_refunds(scope: Scope, limit: int = 200) -> list[tuple[Refund, Order]]:
    """Refunds of group-buy orders that have not gone through (pending, processing, or refused while their
    payment still has money to give back): the list an operator watches until it is empty."""
    rows = db.session.execute(
        scope.select(Refund, Refund, Order).join(Order, Order.id == Refund.order_id)
        .where(Order.kind == OrderKind.GROUPBUY, Refund.status != RefundStatus.SUCCEEDED)
        .order_by(Refund.id).limit(limit)).all()
    return [(r, o) for r, o in rows if r.status is not RefundStatus.FAILED or payments.refundable_fen(r.payment) > 0]


def retry_refund(scope: Scope, refund_id: int) -> Refund:
    """A person asks again for a group-buy order's refund (`payments.retry_refund`, the one rule for every
    order), recorded in the audit log."""
    refund = scope.get(Refund, refund_id)
    if db.session.get(Order, refund.order_id).kind is not OrderKind.GROUPBUY:
        raise NotFound()
    sent = payments.retry_refund(refund)
    audit.record(scope, "groupbuy.refund_retry", "refund", sent.id, before={"out_refund_no": refund.out_refund_no},
                 after={"out_refund_no": sent.out_refund_no})
    return sent


def end_team_time(scope: Scope, team_id: int) -> bool:
    """Demo only (the view refuses in production): the team's deadline is now, and it fails as it would have
    (refunds and all). True when it failed."""
    team = scope.get(Team, team_id)
    if team.status is not TeamStatus.FORMING:
        raise BadRequest(field="team", zh="只有拼团中的团可以结束计时。", en="Only a forming team can be ended.")
    now = now_utc()
    db.session.execute(sa.update(Team).where(Team.id == team.id, Team.status == TeamStatus.FORMING)
                       .values(deadline_at=now).execution_options(synchronize_session=False))
    db.session.expire(team)
    audit.record(scope, "groupbuy.demo_end_time", "groupbuy_team", team.id)
    return lifecycle.fail_if_due(team.id, now=now)


def seat_label(seat: Seat) -> str:
    return {SeatStatus.RESERVED: "待支付", SeatStatus.PAID: "已支付", SeatStatus.LEFT: "已退出",
            SeatStatus.RELEASED: "已释放"}[seat.status]
