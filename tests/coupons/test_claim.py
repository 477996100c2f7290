"""Claims decided by the database: quota, per member, per Shanghai day, the claim window; a coupon is a voucher."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from app.core import clock
from app.core.errors import BadRequest
from app.coupons import campaigns
from app.coupons.campaigns import CampaignSpec
from app.coupons.claim import claim
from app.coupons.errors import NotStarted
from app.coupons.models import Campaign, CampaignStatus, CampaignType, Coupon, MemberClaims
from app.extensions import db
from app.vouchers import service as vouchers
from app.vouchers.models import VoucherSource, VoucherStatus, VoucherEvent
from tests.coupons.helpers import make_campaign, try_claim
from tests.support.factories import make_member, make_product


def _members(world, n):
    return [make_member(world.merchant, f"会员{i}") for i in range(n)]


def test_a_claimed_coupon_is_a_voucher_with_the_campaign_rule(world, frozen):
    product = make_product(world.merchant, "拿铁", (("中杯", 2800, None),))
    c = make_campaign(world.merchant, name="满30减5", type=CampaignType.THRESHOLD, value_fen=500,
                      threshold_fen=3000, store_ids=[world.store.id], days_after_claim=3)
    member = make_member(world.merchant)
    coupon = claim(c, member.id)
    v = coupon.voucher
    assert v.source is VoucherSource.COUPON and v.status is VoucherStatus.ISSUED and v.member_id == member.id
    assert v.handover == "满30减5" and v.value_fen == 500 and v.uses_left == 1
    assert v.store_ids == [world.store.id] and not v.all_stores
    # 3 days counting the day of claim (Mon 23 Nov, Shanghai): until the end of Wed 25 Nov, 23:59:59 Shanghai.
    assert v.valid_from == frozen
    assert v.valid_until == datetime(2026, 11, 25, 16, 0, tzinfo=timezone.utc)
    assert db.session.execute(sa.select(VoucherEvent.kind).where(VoucherEvent.voucher_id == v.id)).scalar() == "issued"
    # The counter finds it by its code like any voucher.
    assert vouchers.find(world.merchant.id, "code", v.code).id == v.id
    db.session.refresh(c)
    assert c.claimed == 1
    exchange = make_campaign(world.merchant, name="兑换拿铁", type=CampaignType.EXCHANGE,
                             sku_id=product.skus[0].id, valid_until=frozen + timedelta(days=30))
    assert claim(exchange, member.id).voucher.handover == "兑换 拿铁（中杯）"
    punch = make_campaign(world.merchant, name="十次卡", type=CampaignType.PUNCH, uses=10, online=False,
                          min_interval_minutes=60, sku_id=product.skus[0].id)
    card = claim(punch, member.id).voucher
    assert card.uses_total == 10 and card.min_interval_seconds == 3600


def test_quota_is_never_passed_and_unlimited_is_still_counted(world, frozen):
    c = make_campaign(world.merchant, quota=3)
    results = [try_claim(c, m.id) for m in _members(world, 5)]
    assert [r if isinstance(r, str) else "ok" for r in results] == ["ok", "ok", "ok", "sold_out", "sold_out"]
    db.session.refresh(c)
    assert c.claimed == 3
    assert db.session.execute(sa.select(sa.func.count()).select_from(Coupon).where(Coupon.campaign_id == c.id)).scalar() == 3
    unlimited = make_campaign(world.merchant, quota=None, per_member=None)
    m = make_member(world.merchant, "多领")
    for _ in range(4):
        assert isinstance(try_claim(unlimited, m.id), Coupon)
    db.session.refresh(unlimited)
    assert unlimited.claimed == 4


def test_per_member_and_per_shanghai_day_limits(world, frozen):
    c = make_campaign(world.merchant, per_member=3, per_member_per_day=2)
    m = make_member(world.merchant)
    assert isinstance(try_claim(c, m.id), Coupon)
    assert isinstance(try_claim(c, m.id), Coupon)
    assert try_claim(c, m.id) == "daily_limit"
    # 23:59 Shanghai is still the same day; 00:00 is the next one.
    clock.freeze(datetime(2026, 11, 23, 15, 59, tzinfo=timezone.utc))
    assert try_claim(c, m.id) == "daily_limit"
    clock.freeze(datetime(2026, 11, 23, 16, 0, tzinfo=timezone.utc))
    assert isinstance(try_claim(c, m.id), Coupon)
    assert try_claim(c, m.id) == "member_limit"
    row = db.session.get(MemberClaims, (c.id, m.id))
    assert (row.claimed, row.day_claimed) == (3, 1)
    other = make_member(world.merchant, "另一位")
    assert isinstance(try_claim(c, other.id), Coupon)  # the limit is the member's, keyed on the member id
    db.session.refresh(c)
    assert c.claimed == 4


def test_a_refused_claim_leaves_nothing(world, frozen):
    c = make_campaign(world.merchant, quota=1)
    a, b = _members(world, 2)
    assert isinstance(try_claim(c, a.id), Coupon)
    assert try_claim(c, b.id) == "sold_out"
    assert db.session.get(MemberClaims, (c.id, b.id)) is None


def test_the_claim_window_and_status(world, frozen):
    later = make_campaign(world.merchant, claim_starts_at=frozen + timedelta(days=1, hours=2))
    m = make_member(world.merchant)
    with pytest.raises(NotStarted) as refused:
        claim(later, m.id)
    assert refused.value.status == 409 and "11月24日 16:00" in refused.value.message("zh")
    assert "Nov 24 16:00" in refused.value.message("en")
    over = make_campaign(world.merchant, claim_ends_at=frozen - timedelta(minutes=1))
    assert try_claim(over, m.id) == "campaign_not_active"
    live = make_campaign(world.merchant)
    assert campaigns.set_status(live, CampaignStatus.PAUSED)
    assert try_claim(live, m.id) == "campaign_not_active"
    assert campaigns.set_status(live, CampaignStatus.ACTIVE)
    assert isinstance(try_claim(live, m.id), Coupon)
    assert campaigns.set_status(live, CampaignStatus.ENDED)
    assert try_claim(live, m.id) == "campaign_not_active"
    draft = make_campaign(world.merchant, status=CampaignStatus.DRAFT)
    assert try_claim(draft, m.id) == "campaign_not_active"


@pytest.mark.parametrize("changes, field", [
    (dict(type=CampaignType.THRESHOLD, value_fen=500, threshold_fen=500), "threshold_fen"),
    (dict(type=CampaignType.PERCENT, percent_off=100, cap_fen=500), "percent_off"),
    (dict(type=CampaignType.PERCENT, percent_off=20), "cap_fen"),
    (dict(type=CampaignType.EXCHANGE), "sku_id"),
    (dict(type=CampaignType.PUNCH, uses=5, online=False), "sku_id"),
    (dict(type=CampaignType.CASH_OFF, value_fen=None), "value_fen"),
    (dict(type=CampaignType.CASH_OFF, value_fen=500, days_after_claim=None), "valid"),
    (dict(type=CampaignType.CASH_OFF, value_fen=500, online=False, counter=False), "online"),
])
def test_rules_are_refused_in_words_naming_the_field(world, changes, field):
    spec = dict(name="券", days_after_claim=7)
    spec.update(changes)
    with pytest.raises(BadRequest) as refused:
        campaigns.create(world.merchant, CampaignSpec(**spec))
    assert refused.value.details["field"] == field
    assert refused.value.message("en") and refused.value.message("zh") != BadRequest.zh


def test_type_and_value_lock_once_claimed_quota_may_rise(world, frozen):
    c = make_campaign(world.merchant, quota=5)
    spec = CampaignSpec.of(c)
    from dataclasses import replace
    assert campaigns.update(c, replace(spec, value_fen=800)) == {"value_fen": (500, 800)}
    claim(c, make_member(world.merchant).id)
    with pytest.raises(BadRequest) as refused:
        campaigns.update(c, replace(CampaignSpec.of(c), value_fen=900))
    assert refused.value.details["field"] == "value_fen"
    with pytest.raises(BadRequest):
        campaigns.update(c, replace(CampaignSpec.of(c), quota=0))
    changed = campaigns.update(c, replace(CampaignSpec.of(c), quota=50, name="改名", rules_text="每人限一张"))
    assert set(changed) == {"quota", "name", "rules_text"}
