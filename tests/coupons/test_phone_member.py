"""A coupon sent to a phone number not yet known waits on a member made for that number; when someone signs in
with WeChat and binds the number, they are that member: the coupon, and the claim counts, are theirs. A number
held by a real member stays theirs."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.coupons.models import Coupon, MemberClaims
from app.extensions import db
from app.members import phone as phones
from app.members.models import Member
from app.members.service import member_for_phone, member_for_wechat
from tests.coupons.helpers import make_campaign, try_claim
from tests.coupons.test_claim import claim

SECRET, LIMITS = "test-secret", "10/minute"


def bind(member, number, now):
    issued = phones.request_code(member, number, secret=SECRET, limits=LIMITS, now=now)
    return phones.confirm(member, number, issued.code, secret=SECRET, now=now)


def test_binding_the_number_takes_over_its_coupons_and_limits(world, frozen):
    c = make_campaign(world.merchant, per_member=1)
    waiting = member_for_phone(world.merchant.id, "13800138000")
    coupon = claim(c, waiting.id)
    person = member_for_wechat(world.merchant.id, openid="o-person", nickname="小王")
    assert bind(person, "13800138000", frozen).bound
    db.session.expire_all()
    assert db.session.get(Coupon, coupon.id).member_id == person.id
    assert db.session.get(Coupon, coupon.id).voucher.member_id == person.id
    assert db.session.get(Member, person.id).phone == "13800138000"
    assert db.session.get(Member, waiting.id).phone is None
    assert db.session.get(MemberClaims, (c.id, person.id)).claimed == 1
    assert try_claim(c, person.id) == "member_limit"  # the limit still holds for the one person


def test_a_real_members_number_is_not_taken(world, frozen):
    owner = member_for_wechat(world.merchant.id, openid="o-owner", nickname="原主")
    assert bind(owner, "13900139000", frozen).bound
    other = member_for_wechat(world.merchant.id, openid="o-other", nickname="别人")
    with pytest.raises(phones.PhoneTaken):
        bind(other, "13900139000", frozen)
