"""The campaigns API (merchant key): create idempotently by request_no, read with counts, grant to a member by
phone, openid or id (idempotent by request_no), refusals as for claims; every answer as the OpenAPI says."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.coupons.models import Coupon
from app.extensions import db
from app.members.models import Member
from tests.support.factories import make_member
from tests.vouchers.helpers import bearer, redeem
from tests.web.test_openapi import check_response

BODY = {"request_no": "ERP-C1", "type": "threshold", "name": "满100减20", "value_fen": 2000, "threshold_fen": 10000,
        "quota": 2, "per_member": 1, "per_member_per_day": None, "valid": {"days_after_claim": 7}, "stores": None,
        "products": None, "categories": None, "online": True, "counter": True, "transferable": False}


def create(client, world, **changes):
    return client.post("/api/v1/campaigns", json={**BODY, **changes}, headers=bearer(world.merchant_key))


def grant(client, world, campaign_id, member, request_no):
    return client.post(f"/api/v1/campaigns/{campaign_id}/grants", json={"member": member, "request_no": request_no},
                       headers=bearer(world.merchant_key))


def test_create_is_idempotent_and_reads_back_with_counts(client, world, frozen):
    r = create(client, world)
    assert r.status_code == 201, r.json
    check_response("/campaigns", "post", r)
    body = r.json
    assert (body["status"], body["type"], body["quota"], body["claimed"], body["redeemed"]) == ("active", "threshold", 2, 0, 0)
    again = create(client, world, name="别的名字")
    assert again.status_code == 200 and again.json == body
    read = client.get(f"/api/v1/campaigns/{body['id']}", headers=bearer(world.merchant_key))
    assert read.status_code == 200 and read.json == body
    check_response("/campaigns/{campaign_id}", "get", read)
    assert client.get(f"/api/v1/campaigns/{body['id']}", headers=bearer(world.counter_key)).status_code == 403


@pytest.mark.parametrize("changes, field", [
    ({"threshold_fen": 2000}, "threshold_fen"),
    ({"type": "percent", "percent_off": 20, "value_fen": None, "threshold_fen": None}, "cap_fen"),
    ({"type": "exchange"}, "sku_id"),
    ({"valid": {"from": "2026-12-01", "until": "yesterday"}}, "valid.until"),
    ({"quota": "2"}, "quota"),
    ({"stores": [10**6]}, "store_ids"),
])
def test_invalid_rules_are_400_naming_the_field(client, world, changes, field):
    r = create(client, world, request_no=f"bad-{field}", **changes)
    assert r.status_code == 400 and r.json["error"]["code"] == "bad_request"
    assert r.json["error"]["field"] == field
    check_response("/campaigns", "post", r)


def test_grants_by_phone_openid_and_id_idempotent_then_sold_out(client, world, frozen):
    campaign_id = create(client, world).json["id"]
    r = grant(client, world, campaign_id, {"phone": "13800138000"}, "G-1")
    assert r.status_code == 201, r.json
    check_response("/campaigns/{campaign_id}/grants", "post", r)
    coupon = r.json["coupon"]
    assert coupon["status"] == "issued" and coupon["campaign_id"] == campaign_id
    assert coupon["qr_url"].startswith("http://shop.test/qr/") and len(coupon["code"]) == 14
    member = db.session.get(Member, r.json["member"]["id"])
    assert member.phone == "13800138000"
    assert grant(client, world, campaign_id, {"phone": "13800138000"}, "G-1").json == r.json
    limit = grant(client, world, campaign_id, {"phone": "138-0013-8000"}, "G-2")
    assert limit.status_code == 409 and limit.json["error"]["code"] == "member_limit"
    check_response("/campaigns/{campaign_id}/grants", "post", limit)
    known = make_member(world.merchant, "老顾客")
    db.session.commit()
    assert grant(client, world, campaign_id, {"id": known.id}, "G-3").status_code == 201
    sold = grant(client, world, campaign_id, {"openid": "o-new"}, "G-4")
    assert sold.status_code == 409 and sold.json["error"]["code"] == "sold_out"
    assert grant(client, world, campaign_id, {"id": 10**6}, "G-5").status_code == 404
    read = client.get(f"/api/v1/campaigns/{campaign_id}", headers=bearer(world.merchant_key)).json
    assert read["claimed"] == 2 and read["redeemed"] == 0
    # The granted code works at the counter like any coupon; the campaign counts it.
    assert redeem(client, world.counter_key, coupon["code"], amount_fen=10000).status_code == 200
    assert client.get(f"/api/v1/campaigns/{campaign_id}", headers=bearer(world.merchant_key)).json["redeemed"] == 1


def test_another_merchants_campaign_is_not_found(client, world):
    from tests.coupons.helpers import make_campaign

    theirs = make_campaign(world.other_merchant)
    db.session.commit()
    assert client.get(f"/api/v1/campaigns/{theirs.id}", headers=bearer(world.merchant_key)).status_code == 404
    assert grant(client, world, theirs.id, {"phone": "13800138000"}, "X").status_code == 404
    assert db.session.execute(sa.select(sa.func.count()).select_from(Coupon)).scalar() == 0
