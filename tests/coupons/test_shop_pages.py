"""The consumer's coupon pages: 领券中心 from home and from a product, a campaign's page with 领取, and Me → 优惠券."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.coupons.models import CampaignType, Coupon
from app.extensions import db
from app.vouchers import codes
from tests.conftest import member_client
from tests.coupons.helpers import make_campaign
from tests.support.factories import make_member, make_product


def _slug(world):
    return world.merchant.slug


def test_home_and_product_lead_to_the_coupons_that_apply(app, client, world, frozen):
    latte = make_product(world.merchant, "拿铁", (("中杯", 2800, None),), stock={world.store: 5})
    bread = make_product(world.merchant, "可颂", (("原味", 1500, None),), stock={world.store: 5})
    everything = make_campaign(world.merchant, name="全场立减5元")
    only_latte = make_campaign(world.merchant, name="拿铁满30减5", type=CampaignType.THRESHOLD, value_fen=500,
                               threshold_fen=3000, product_ids=[latte.id])
    db.session.commit()
    home = client.get(f"/m/{_slug(world)}/")
    assert f'href="/m/{_slug(world)}/coupons"' in home.text
    page = client.get(f"/m/{_slug(world)}/p/{bread.id}")
    assert f"/m/{_slug(world)}/coupons?product={bread.id}" in page.text
    center = client.get(f"/m/{_slug(world)}/coupons")
    assert "全场立减5元" in center.text and "拿铁满30减5" in center.text and "满30减5" in center.text
    for_bread = client.get(f"/m/{_slug(world)}/coupons?product={bread.id}").text
    assert "全场立减5元" in for_bread and "拿铁满30减5" not in for_bread
    for_latte = client.get(f"/m/{_slug(world)}/coupons?product={latte.id}").text
    assert "全场立减5元" in for_latte and "拿铁满30减5" in for_latte
    campaign = client.get(f"/m/{_slug(world)}/coupons/{only_latte.id}")
    assert campaign.status_code == 200 and "登录后领取" in campaign.text
    other = make_campaign(world.other_merchant, name="别家的券")
    db.session.commit()
    assert client.get(f"/m/{_slug(world)}/coupons/{other.id}").status_code == 404


def test_claim_then_see_it_under_me_with_code_rule_validity_and_qr(app, world, frozen):
    c = make_campaign(world.merchant, name="新客立减5元", quota=1, days_after_claim=3)
    member = make_member(world.merchant)
    db.session.commit()
    shopper = member_client(app, member)
    answer = shopper.post(f"/m/{_slug(world)}/coupons/{c.id}/claim")
    assert answer.status_code == 303 and answer.location.endswith(f"/m/{_slug(world)}/me/coupons")
    mine = shopper.get(answer.location)
    coupon = db.session.execute(sa.select(Coupon).where(Coupon.member_id == member.id)).scalar_one()
    assert "领取成功" in mine.text and "立减5元" in mine.text and "有效期至 2026-11-25 23:59" in mine.text
    assert codes.pretty(coupon.voucher.code) in mine.text
    holder = mine.text.split('href="/w/')[1].split('"')[0]
    voucher_page = shopper.get(f"/w/{holder}")
    assert voucher_page.status_code == 200 and "立减5元" in voucher_page.text
    assert shopper.get(f"/w/{holder}/qr.svg").status_code == 200
    me = shopper.get(f"/m/{_slug(world)}/me")
    assert f"/m/{_slug(world)}/me/coupons" in me.text
    # Sold out now: a second member is told so on the page, with 409.
    late = member_client(app, make_member(world.merchant, "晚到"))
    db.session.commit()
    refused = late.post(f"/m/{_slug(world)}/coupons/{c.id}/claim")
    assert refused.status_code == 409 and "已被领完" in refused.text
    fresh = make_campaign(world.merchant, name="JSON 领取")
    db.session.commit()
    ok = late.post(f"/m/{_slug(world)}/coupons/{fresh.id}/claim", headers={"Accept": "application/json"})
    assert ok.status_code == 200 and ok.json["coupon"]["campaign_id"] == fresh.id and len(ok.json["coupon"]["code"]) == 14
    as_json = late.post(f"/m/{_slug(world)}/coupons/{c.id}/claim", headers={"Accept": "application/json"})
    assert as_json.status_code == 409 and as_json.json["error"]["code"] == "sold_out"
    english = late.post(f"/m/{_slug(world)}/coupons/{c.id}/claim?lang=en", headers={"Accept": "application/json"})
    assert "all coupons" in english.json["error"]["message"]


def test_claiming_needs_sign_in_and_refusals_say_why(app, client, world, frozen):
    c = make_campaign(world.merchant, per_member=1, claim_starts_at=frozen + timedelta(hours=2))
    db.session.commit()
    anonymous = client.post(f"/m/{_slug(world)}/coupons/{c.id}/claim")
    assert anonymous.status_code == 302 and "/signin" in anonymous.location
    shopper = member_client(app, make_member(world.merchant))
    db.session.commit()
    early = shopper.post(f"/m/{_slug(world)}/coupons/{c.id}/claim", headers={"Accept": "application/json"})
    assert early.status_code == 409 and early.json["error"]["code"] == "campaign_not_active"
    assert "16:00" in early.json["error"]["message"]
    open_now = make_campaign(world.merchant, per_member=1)
    db.session.commit()
    assert shopper.post(f"/m/{_slug(world)}/coupons/{open_now.id}/claim").status_code == 303
    again = shopper.post(f"/m/{_slug(world)}/coupons/{open_now.id}/claim", headers={"Accept": "application/json"})
    assert again.status_code == 409 and again.json["error"]["code"] == "member_limit"


def test_a_draft_campaign_is_not_public(client, world, frozen):
    from app.coupons.models import CampaignStatus

    draft = make_campaign(world.merchant, name="草稿券", status=CampaignStatus.DRAFT)
    db.session.commit()
    assert client.get(f"/m/{_slug(world)}/coupons/{draft.id}").status_code == 404
    assert "草稿券" not in client.get(f"/m/{_slug(world)}/coupons").text
