"""Create, edit and schedule campaigns; the rules that say what a campaign may be, in words.

Once anything has been claimed, the type and value are locked (type, value, threshold, percent, cap, SKU,
uses, interval); the quota may rise (never below what was claimed), the claim window may move, the text may
change. `LOCKED_FIELDS` is the one list the editor and the API read.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import datetime

import sqlalchemy as sa

from app.catalog.models import Category, Product, Sku
from app.core import states
from app.core.clock import now_utc
from app.core.errors import BadRequest
from app.extensions import db
from app.members.models import Member
from app.merchants.models import Merchant, Store
from app.coupons.errors import CampaignNotFound
from app.coupons.models import (
    MONEY_TYPES, TRANSITIONS, Campaign, CampaignCategory, CampaignProduct, CampaignStatus, CampaignStore,
    CampaignType,
)

LOCKED_FIELDS = ("type", "value_fen", "threshold_fen", "percent_off", "cap_fen", "sku_id", "uses",
                 "min_interval_minutes", "days_after_claim", "valid_from", "valid_until")


@dataclass(frozen=True)
class CampaignSpec:
    """What a campaign is, as the console form or the API gives it (already parsed)."""

    name: str
    type: CampaignType
    rules_text: str = ""
    value_fen: int | None = None
    threshold_fen: int | None = None
    percent_off: int | None = None
    cap_fen: int | None = None
    sku_id: int | None = None
    uses: int = 1
    min_interval_minutes: int | None = None
    quota: int | None = None
    per_member: int | None = 1
    per_member_per_day: int | None = None
    claim_starts_at: datetime | None = None
    claim_ends_at: datetime | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    days_after_claim: int | None = None
    store_ids: tuple[int, ...] = ()      # empty: every store
    product_ids: tuple[int, ...] = ()    # empty (and no categories): every product
    category_ids: tuple[int, ...] = ()
    online: bool = True
    counter: bool = True
    with_member_price: bool = True
    transferable: bool = False
    status: CampaignStatus = CampaignStatus.ACTIVE
    request_no: str | None = None

    @classmethod
    def of(cls, campaign: Campaign) -> "CampaignSpec":
        own = {f.name: getattr(campaign, f.name) for f in fields(cls)
               if f.name not in ("store_ids", "product_ids", "category_ids")}
        return cls(**own, store_ids=tuple(campaign.store_ids), product_ids=tuple(campaign.product_ids),
                   category_ids=tuple(campaign.category_ids))


def _bad(field_name: str, zh: str, en: str) -> BadRequest:
    return BadRequest(field=field_name, zh=zh, en=en)


def check_rules(spec: CampaignSpec) -> None:
    """Raises BadRequest naming the first field whose rule does not hold, in words."""
    if not spec.name.strip():
        raise _bad("name", "请填写活动名称。", "Enter the campaign's name.")
    t = spec.type
    if t in MONEY_TYPES and t is not CampaignType.PERCENT and not spec.value_fen:
        raise _bad("value_fen", "请填写优惠金额（大于 0）。", "Enter the amount off (above 0).")
    if t is CampaignType.THRESHOLD and (not spec.threshold_fen or spec.threshold_fen <= (spec.value_fen or 0)):
        raise _bad("threshold_fen", "满减的门槛必须高于优惠金额。", "The threshold must be above the amount off.")
    if t is CampaignType.PERCENT:
        if spec.percent_off is None or not 1 <= spec.percent_off <= 99:
            raise _bad("percent_off", "折扣须在 1% 到 99% 之间（20 即八折）。",
                       "The percentage off must be 1 to 99 (20 means 20% off).")
        if not spec.cap_fen:
            raise _bad("cap_fen", "折扣券须设置最高优惠金额。", "A percentage coupon needs a cap on the amount off.")
    if t in (CampaignType.EXCHANGE, CampaignType.PUNCH) and not spec.sku_id:
        raise _bad("sku_id", "兑换券和次卡须选择兑换的商品规格。", "Exchange coupons and punch cards need a SKU.")
    if t is CampaignType.PUNCH and spec.uses < 2:
        raise _bad("uses", "次卡至少可用 2 次。", "A punch card has at least 2 uses.")
    if t is not CampaignType.PUNCH and spec.uses != 1:
        raise _bad("uses", "只有次卡可以多次使用。", "Only punch cards have several uses.")
    if spec.min_interval_minutes is not None and (t is not CampaignType.PUNCH or spec.min_interval_minutes < 1):
        raise _bad("min_interval_minutes", "只有次卡可设置两次使用的间隔（至少 1 分钟）。",
                   "Only punch cards have an interval between uses (at least 1 minute).")
    if spec.quota is not None and spec.quota < 0:
        raise _bad("quota", "发放总量不能为负。", "The quota cannot be negative.")
    for name in ("per_member", "per_member_per_day"):
        if getattr(spec, name) is not None and getattr(spec, name) < 1:
            raise _bad(name, "每人限领数量至少为 1。", "A per-member limit is at least 1.")
    if spec.per_member and spec.per_member_per_day and spec.per_member_per_day > spec.per_member:
        raise _bad("per_member_per_day", "每天限领不能多于每人限领。", "The daily limit cannot exceed the total per member.")
    if spec.claim_starts_at and spec.claim_ends_at and spec.claim_ends_at <= spec.claim_starts_at:
        raise _bad("claim_ends_at", "领取结束时间须晚于开始时间。", "Claiming must end after it starts.")
    if (spec.days_after_claim is None) == (spec.valid_until is None):
        raise _bad("valid", "有效期须二选一：固定日期，或领取后 N 天。",
                   "Validity is either fixed dates or N days after claiming.")
    if spec.days_after_claim is not None and spec.days_after_claim < 1:
        raise _bad("days_after_claim", "领取后有效天数至少为 1。", "Days after claiming is at least 1.")
    if spec.valid_until is not None and spec.valid_from is not None and spec.valid_until <= spec.valid_from:
        raise _bad("valid_until", "有效期结束须晚于开始。", "Validity must end after it starts.")
    if not spec.online and not spec.counter:
        raise _bad("online", "至少选择线上或到店其中一种用法。", "Choose online, at the counter, or both.")
    if t is CampaignType.PUNCH and spec.online:
        raise _bad("online", "次卡只能到店使用。", "Punch cards are used at the counter only.")


def _check_refs(merchant: Merchant, spec: CampaignSpec) -> None:
    """Every id the spec names is the merchant's."""
    checks = (("store_ids", spec.store_ids, sa.select(Store.id).where(Store.merchant_id == merchant.id)),
              ("product_ids", spec.product_ids, sa.select(Product.id).where(Product.merchant_id == merchant.id)),
              ("category_ids", spec.category_ids,
               sa.select(Category.id).where(Category.merchant_id == merchant.id)))
    for name, ids, query in checks:
        if ids:
            found = set(db.session.execute(query.where(query.selected_columns[0].in_(ids))).scalars())
            missing = sorted(set(ids) - found)
            if missing:
                raise _bad(name, f"不存在：{missing}。", f"Unknown: {missing}.")
    if spec.sku_id is not None and db.session.execute(
            sa.select(Sku.id).where(Sku.id == spec.sku_id, Sku.merchant_id == merchant.id)).first() is None:
        raise _bad("sku_id", "商品规格不存在。", "Unknown SKU.")


def _links(campaign: Campaign, spec: CampaignSpec) -> None:
    campaign.all_stores = not spec.store_ids
    campaign.all_products = not spec.product_ids and not spec.category_ids
    if set(campaign.store_ids) != set(spec.store_ids):
        campaign.store_links = [CampaignStore(store_id=s) for s in sorted(set(spec.store_ids))]
    if set(campaign.product_ids) != set(spec.product_ids):
        campaign.product_links = [CampaignProduct(product_id=p) for p in sorted(set(spec.product_ids))]
    if set(campaign.category_ids) != set(spec.category_ids):
        campaign.category_links = [CampaignCategory(category_id=c) for c in sorted(set(spec.category_ids))]


_OWN = ("name", "rules_text", "type", "value_fen", "threshold_fen", "percent_off", "cap_fen", "sku_id", "uses",
        "min_interval_minutes", "quota", "per_member", "per_member_per_day", "claim_starts_at", "claim_ends_at",
        "valid_from", "valid_until", "days_after_claim", "online", "counter", "with_member_price", "transferable")


def _normal(spec: CampaignSpec) -> CampaignSpec:
    """Fields a type does not use are cleared, so a stored campaign never carries a stray rule."""
    t = spec.type
    keep_value = t in (CampaignType.CASH_OFF, CampaignType.THRESHOLD)
    return replace(
        spec, name=spec.name.strip(), rules_text=spec.rules_text.strip(),
        value_fen=spec.value_fen if keep_value else None,
        threshold_fen=spec.threshold_fen if t is CampaignType.THRESHOLD else None,
        percent_off=spec.percent_off if t is CampaignType.PERCENT else None,
        cap_fen=spec.cap_fen if t is CampaignType.PERCENT else None,
        sku_id=spec.sku_id if t in (CampaignType.EXCHANGE, CampaignType.PUNCH) else None,
        valid_from=spec.valid_from if spec.days_after_claim is None else None,
    )


def create(merchant: Merchant, spec: CampaignSpec) -> Campaign:
    spec = _normal(spec)
    check_rules(spec)
    _check_refs(merchant, spec)
    now = now_utc()
    campaign = Campaign(merchant_id=merchant.id, status=spec.status, request_no=spec.request_no, claimed=0,
                        created_at=now, updated_at=now, **{k: getattr(spec, k) for k in _OWN})
    _links(campaign, spec)
    db.session.add(campaign)
    db.session.flush()
    return campaign


def locked_changes(campaign: Campaign, spec: CampaignSpec) -> list[str]:
    """The locked fields `spec` would change on a campaign that has claims (empty when none is claimed)."""
    if not campaign.claimed:
        return []
    return [name for name in LOCKED_FIELDS if getattr(campaign, name) != getattr(spec, name)]


def update(campaign: Campaign, spec: CampaignSpec) -> dict[str, tuple]:
    """Applies `spec`; returns {field: (before, after)} of what changed (for the audit log)."""
    spec = _normal(spec)
    check_rules(spec)
    merchant = db.session.get(Merchant, campaign.merchant_id)
    _check_refs(merchant, spec)
    db.session.refresh(campaign, ["claimed"])  # claims change it with Core statements
    locked = locked_changes(campaign, spec)
    if locked:
        raise _bad(locked[0], "已有人领取：券的类型和面值不能再改（总量可增加，领取时间和文案可改）。",
                   "Coupons have been claimed: the type and value are locked (the quota may rise, the claim "
                   "window and the text may change).")
    if spec.quota is not None and spec.quota < campaign.claimed:
        raise _bad("quota", f"已领取 {campaign.claimed} 张，总量不能少于此数。",
                   f"{campaign.claimed} have been claimed; the quota cannot go below that.")
    changed = {}
    for name in _OWN:
        before, after = getattr(campaign, name), getattr(spec, name)
        if before != after:
            changed[name] = (before, after)
            setattr(campaign, name, after)
    for name, before in (("store_ids", campaign.store_ids), ("product_ids", campaign.product_ids),
                         ("category_ids", campaign.category_ids)):
        if set(before) != set(getattr(spec, name)):
            changed[name] = (before, sorted(getattr(spec, name)))
    _links(campaign, spec)
    campaign.updated_at = now_utc()
    db.session.flush()
    return changed


def set_status(campaign: Campaign, to: CampaignStatus) -> bool:
    """Pause, resume (active) or end a campaign; True when this call changed it (the database decides)."""
    return states.transition(campaign, to, TRANSITIONS, updated_at=now_utc())


def get(merchant_id: int, campaign_id: int) -> Campaign:
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.merchant_id != merchant_id:
        raise CampaignNotFound()
    return campaign


def by_slug(slug: str, campaign_id: int, member_ids: list[int]) -> tuple[Campaign, Member | None]:
    """The campaign `campaign_id` of the shop `slug` and, of `member_ids` (a session's members, one per shop),
    the one that is that merchant's (None if none is), in one query; CampaignNotFound when the shop has no
    such campaign."""
    row = db.session.execute(
        sa.select(Campaign, Member).join(Merchant, Merchant.id == Campaign.merchant_id)
        .outerjoin(Member, sa.and_(Member.id.in_(member_ids or [0]), Member.merchant_id == Campaign.merchant_id))
        .where(Campaign.id == campaign_id, Merchant.slug == slug)).one_or_none()
    if row is None:
        raise CampaignNotFound()
    return row[0], row[1]
