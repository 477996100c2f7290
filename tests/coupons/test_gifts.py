"""转赠: a gift link; the friend who accepts gets a new code and the giver's stops at once; given once; returns
after 24 hours; a giver who used the coupon meanwhile cannot have it taken. And the job that marks expiry."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.core import clock
from app.core.database import commit
from app.coupons import gifts
from app.coupons.errors import GiftGone, NotTransferable
from app.coupons.models import GiftStatus
from app.coupons.tasks import expire
from app.extensions import db
from app.vouchers import codes
from app.vouchers import redeem as redeeming
from app.vouchers import service as vouchers
from app.vouchers.models import Voucher, VoucherStatus
from tests.conftest import member_client
from tests.coupons.helpers import make_campaign
from tests.coupons.test_claim import claim
from tests.support.factories import make_member
from tests.vouchers.helpers import redeem, verify


def test_accepting_moves_the_coupon_to_a_new_code_and_kills_the_old_one(client, world, frozen):
    c = make_campaign(world.merchant, transferable=True, days_after_claim=3)
    giver, friend = make_member(world.merchant, "送券人"), make_member(world.merchant, "朋友")
    coupon = claim(c, giver.id)
    commit()
    old_code = codes.pretty(coupon.voucher.code)
    gift = gifts.offer(coupon, giver.id, now=frozen)
    assert gifts.offer(coupon, giver.id, now=frozen).id == gift.id  # the same link while pending
    assert verify(client, world.counter_key, old_code).status_code == 200  # still the giver's until accepted
    new = gifts.accept(gift, friend.id, now=frozen + timedelta(hours=1))
    commit()
    assert new.member_id == friend.id and new.voucher.code != coupon.voucher.code
    assert (new.voucher.valid_from, new.voucher.valid_until) == (coupon.voucher.valid_from, coupon.voucher.valid_until)
    r = verify(client, world.counter_key, old_code)
    assert r.status_code == 409 and r.json["error"]["code"] == "void"
    assert redeem(client, world.counter_key, codes.pretty(new.voucher.code)).status_code == 200
    db.session.refresh(gift)
    assert gift.status is GiftStatus.ACCEPTED and gift.receiver_id == friend.id
    # Given once: neither the old coupon again nor the received one.
    with pytest.raises(NotTransferable):
        gifts.offer(coupon, giver.id, now=frozen)
    with pytest.raises(NotTransferable):
        gifts.offer(new, friend.id, now=frozen)


def test_refusals_not_transferable_own_gift_expired_gift_and_a_used_coupon(world, frozen):
    giver, friend = make_member(world.merchant, "送券人"), make_member(world.merchant, "朋友")
    locked = claim(make_campaign(world.merchant, transferable=False), giver.id)
    with pytest.raises(NotTransferable):
        gifts.offer(locked, giver.id, now=frozen)
    c = make_campaign(world.merchant, transferable=True, per_member=None)
    late = claim(c, giver.id)
    gift = gifts.offer(late, giver.id, now=frozen)
    with pytest.raises(GiftGone):
        gifts.accept(gift, giver.id, now=frozen)
    with pytest.raises(GiftGone):
        gifts.accept(gift, friend.id, now=frozen + timedelta(hours=24))
    assert gifts.return_expired(frozen + timedelta(hours=24)) == 1
    db.session.refresh(gift)
    assert gift.status is GiftStatus.RETURNED and late.voucher.status is VoucherStatus.ISSUED
    used = claim(c, giver.id)
    commit()
    gift2 = gifts.offer(used, giver.id, now=frozen)
    commit()

    redeeming.redeem(used.voucher, vouchers.Actor(world.merchant.id, world.store.id, staff_id=world.cashier.id))
    commit()
    with pytest.raises(GiftGone) as refused:
        gifts.accept(gift2, friend.id, now=frozen)
    assert "已使用" in refused.value.message("zh")


def test_the_gift_pages_from_giver_to_friend(app, world, frozen):
    c = make_campaign(world.merchant, name="可转赠立减券", transferable=True)
    giver, friend = make_member(world.merchant, "送券人"), make_member(world.merchant, "朋友")
    coupon = claim(c, giver.id)
    commit()
    me = member_client(app, giver)
    page = me.get(f"/m/{world.merchant.slug}/me/coupons")
    assert 'data-testid="gift"' in page.text
    r = me.post(f"/m/{world.merchant.slug}/me/coupons/{coupon.id}/gift")
    assert r.status_code == 303
    link = me.get(r.location)
    assert 'data-testid="gift-link"' in link.text
    url = re.search(r'data-testid="gift-link">([^<]+)<', link.text).group(1)
    path = url.replace("http://shop.test", "")
    stranger = app.test_client()
    assert "登录后领取" in stranger.get(path).text
    assert "/signin" in stranger.post(path + "/accept").location
    other = member_client(app, friend)
    assert other.post(path + "/accept").status_code == 303
    assert "可转赠立减券" in other.get(f"/m/{world.merchant.slug}/me/coupons").text
    mine = me.get(f"/m/{world.merchant.slug}/me/coupons").text
    assert 'data-state="accepted"' in mine and "朋友已领取" in mine
    again = other.post(path + "/accept", headers={"Accept": "application/json"})
    assert again.status_code == 409 and again.json["error"]["code"] == "gift_gone"


def test_the_job_marks_expired_coupons_with_a_ledger_row(world, frozen):
    c = make_campaign(world.merchant, days_after_claim=1)
    coupon = claim(c, make_member(world.merchant).id)
    commit()
    assert expire(frozen) == 0
    assert expire(frozen + timedelta(days=1)) == 1
    db.session.expire_all()
    assert db.session.get(Voucher, coupon.voucher_id).status is VoucherStatus.EXPIRED
    assert expire(frozen + timedelta(days=1)) == 0
