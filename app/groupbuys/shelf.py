"""The group-buys a product page offers, kept in the merchant's catalog snapshot: one query per catalog rev,
not one per page view (the product page stays a single query when warm).

A campaign's edit that changes what the page shows (status, dates, size, price, SKU) gives the merchant a new
catalog rev in the same transaction (app.groupbuys.models), so the next page, on every worker, sees it; the
time window is checked on every view. Seats and stock are not shown here: the share page reads them live.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from app.catalog.models import Sku
from app.catalog.snapshot import Catalog
from app.extensions import db
from app.groupbuys.models import CampaignStatus, GroupBuyCampaign


@dataclass(frozen=True, slots=True)
class Offer:
    id: int
    product_id: int
    team_size: int
    group_price_fen: int
    starts_at: datetime
    ends_at: datetime


def offers_for_product(cat: Catalog, product_id: int, now: datetime) -> list[Offer]:
    """The running campaigns selling one of the product's SKUs (the product page's 拼团 buttons)."""
    offers = cat.memo(("groupbuy-offers",), lambda: _load(cat.merchant.id, now))
    return [o for o in offers if o.product_id == product_id and o.starts_at <= now < o.ends_at]


def _load(merchant_id: int, now: datetime) -> tuple[Offer, ...]:
    rows = db.session.execute(
        sa.select(GroupBuyCampaign.id, Sku.product_id, GroupBuyCampaign.team_size, GroupBuyCampaign.group_price_fen,
                  GroupBuyCampaign.starts_at, GroupBuyCampaign.ends_at)
        .join(Sku, Sku.id == GroupBuyCampaign.sku_id)
        .where(GroupBuyCampaign.merchant_id == merchant_id, GroupBuyCampaign.status == CampaignStatus.ACTIVE,
               GroupBuyCampaign.ends_at > now)
        .order_by(GroupBuyCampaign.id))
    return tuple(Offer(*row) for row in rows)
