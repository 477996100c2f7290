from __future__ import annotations

from datetime import timedelta

from app.core.clock import now_utc
from app.extensions import db
from app.presales.models import PresaleCampaign, CampaignStatus, MissedBalance


def make_campaign(merchant, sku, store, *, stock=5, limit=2, missed=MissedBalance.REFUND, deposit=5000, value=10000,
                  full=30000, deposit_days=(-1, 1), balance_days=(1, 3), pickup_day=4, pickup_after_days=None,
                  status=CampaignStatus.ACTIVE, title="预售 · 圣诞蛋糕") -> PresaleCampaign:
    """Windows in days from now: deposits open now, balance from day 1 to 3, pickup from day 4."""
    now = now_utc()
    c = PresaleCampaign(merchant_id=merchant.id, sku_id=sku.id, store_id=store.id, title=title, full_price_fen=full,
                 deposit_fen=deposit, deposit_value_fen=value,
                 deposit_starts_at=now + timedelta(days=deposit_days[0]), deposit_ends_at=now + timedelta(days=deposit_days[1]),
                 balance_starts_at=now + timedelta(days=balance_days[0]), balance_ends_at=now + timedelta(days=balance_days[1]),
                 pickup_from=None if pickup_after_days is not None else now + timedelta(days=pickup_day),
                 pickup_after_days=pickup_after_days, stock_total=stock, stock_left=stock, per_member_limit=limit,
                 missed_balance=missed, coupons_on_balance=False, rules="定金支付后不可取消。", status=status)
    db.session.add(c)
    db.session.flush()
    return c
