"""The demo's pre-sale (created once): a whole cheesecake, ¥20 deposit counting as ¥50, deposits open now,
the balance window in two weeks (the console's demo buttons open it now, or close it to see a missed balance),
pickup as soon as the balance is paid, at the first store."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.catalog.models import Sku
from app.core.clock import now_utc
from app.extensions import db
from app.merchants.models import Merchant, Store
from app.presales.models import PresaleCampaign, CampaignStatus, MissedBalance

RULES = ("定金 ¥20 抵 ¥50，尾款 ¥148。每人限 2 只。\n"
         "付尾款后即可到人民广场店自提；未在尾款时间内支付尾款，定金原路退回。\n"
         "演示：在商户后台「预售」里点「现在开始付尾款」，不用等两周。")


def load(merchant: Merchant, store: Store, sku: Sku) -> list[dict]:
    found = list(db.session.execute(sa.select(PresaleCampaign).where(PresaleCampaign.merchant_id == merchant.id)
                                    .order_by(PresaleCampaign.id)).scalars())
    if not found:
        now = now_utc()
        found = [PresaleCampaign(
            merchant_id=merchant.id, sku_id=sku.id, store_id=store.id, title="整只纽约芝士蛋糕 · 预售",
            full_price_fen=19800, deposit_fen=2000, deposit_value_fen=5000,
            deposit_starts_at=now - timedelta(hours=1), deposit_ends_at=now + timedelta(days=14),
            balance_starts_at=now + timedelta(days=14), balance_ends_at=now + timedelta(days=21),
            pickup_from=None, pickup_after_days=0, stock_total=50, stock_left=50, per_member_limit=2,
            missed_balance=MissedBalance.REFUND, coupons_on_balance=False, rules=RULES,
            status=CampaignStatus.ACTIVE)]
        db.session.add(found[0])
        db.session.flush()
    return [{"id": c.id, "title": c.title, "url": f"/m/{merchant.slug}/presale/{c.id}"} for c in found]
