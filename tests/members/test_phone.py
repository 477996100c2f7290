"""Binding a phone number: number rules, code lifetime, tries, one use, one member per number, texts per
number."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.members import phone as phones
from app.members.models import PhoneCode
from app.members.service import demo_member

SECRET = "test-secret"
LIMITS = "1/minute;5/hour"


@pytest.fixture
def member(world):
    m = demo_member(world.merchant.id, "小李")
    db.session.commit()
    return m


def issue(member, number="13800138000", *, now):
    return phones.request_code(member, number, secret=SECRET, limits=LIMITS, now=now)


def confirm(member, code, number="13800138000", *, now):
    return phones.confirm(member, number, code, secret=SECRET, now=now)


@pytest.mark.parametrize("raw, expected", [
    ("13800138000", "13800138000"), ("138 0013 8000", "13800138000"), ("138-0013-8000", "13800138000"),
    ("+86 138 0013 8000", "13800138000"), ("008613800138000", "13800138000"), ("8613800138000", "13800138000"),
    ("19912345678", "19912345678"),
])
def test_mainland_mobile_numbers_are_normalised(raw, expected):
    assert phones.normalise(raw) == expected


@pytest.mark.parametrize("raw", ["", "1380013800", "138001380000", "12800138000", "02162481002", "abc",
                                 "+1 415 555 0100", "1380013800O"])
def test_anything_else_is_refused(raw):
    with pytest.raises(phones.BadPhone):
        phones.normalise(raw)


def test_masking_keeps_the_first_three_and_last_four():
    assert phones.mask("13800138000") == "138****8000" and phones.mask(None) == ""


def test_the_right_code_binds_the_number_once(member, frozen):
    issued = issue(member, "138 0013 8000", now=frozen)
    assert len(issued.code) == 6 and issued.code.isdigit()
    stored = db.session.get(PhoneCode, issued.record.id)
    assert issued.code not in stored.code_mac  # only an HMAC is kept
    assert confirm(member, issued.code, now=frozen + timedelta(minutes=4)).bound
    assert member.phone == "13800138000"
    with pytest.raises(phones.CodeExpired):  # used
        confirm(member, issued.code, now=frozen + timedelta(minutes=4))


def test_a_code_expires_after_five_minutes(member, frozen):
    issued = issue(member, now=frozen)
    with pytest.raises(phones.CodeExpired):
        confirm(member, issued.code, now=frozen + timedelta(minutes=5, seconds=1))
    assert member.phone is None


def test_five_wrong_tries_lock_the_code(member, frozen):
    issued = issue(member, now=frozen)
    wrong = "000000" if issued.code != "000000" else "111111"
    tries = [confirm(member, wrong, now=frozen) for _ in range(5)]
    assert [t.attempts_left for t in tries] == [4, 3, 2, 1, 0] and not any(t.bound for t in tries)
    assert isinstance(tries[0].refusal(), phones.CodeWrong) and isinstance(tries[-1].refusal(), phones.CodeLocked)
    assert tries[0].refusal().to_dict()["message"] == "验证码不正确，还可以再试 4 次。"
    with pytest.raises(phones.CodeLocked):  # even the right code now
        confirm(member, issued.code, now=frozen)
    assert member.phone is None


def test_a_new_text_replaces_the_earlier_code(member, frozen, app):
    first = issue(member, now=frozen)
    from app.extensions import allowance
    allowance.reset()  # past the one-a-minute allowance
    second = issue(member, now=frozen + timedelta(minutes=1))
    if first.code != second.code:
        assert not confirm(member, first.code, now=frozen + timedelta(minutes=2)).bound
    assert confirm(member, second.code, now=frozen + timedelta(minutes=2)).bound


def test_texts_per_number_are_limited(member, frozen):
    issue(member, now=frozen)
    with pytest.raises(phones.TextsTooSoon) as refused:
        issue(member, now=frozen)
    assert 0 < refused.value.details["retry_after"] <= 60
    assert db.session.execute(sa.select(sa.func.count(PhoneCode.id))).scalar() == 1  # no second code


def test_a_number_belongs_to_one_member(world, member, frozen):
    other = demo_member(world.merchant.id, "小张")
    other.phone = "13800138000"
    db.session.commit()
    with pytest.raises(phones.PhoneTaken):
        issue(member, now=frozen)
    elsewhere = demo_member(world.other_merchant.id, "小李")  # another merchant's member may have it
    db.session.commit()
    assert confirm(elsewhere, issue(elsewhere, now=frozen).code, now=frozen).bound is True


def test_two_members_with_codes_for_one_number_the_first_to_confirm_gets_it(world, member, frozen):
    # Both asked before either bound it; the second bind hits the unique constraint (as a parallel one would).
    rival = demo_member(world.merchant.id, "小赵")
    db.session.commit()
    mine = issue(member, now=frozen)
    from app.extensions import allowance
    allowance.reset()
    theirs = issue(rival, now=frozen)
    assert confirm(rival, theirs.code, now=frozen).bound
    with pytest.raises(phones.PhoneTaken):
        confirm(member, mine.code, now=frozen)
    assert member.phone is None and rival.phone == "13800138000"


def test_binding_the_number_you_have_is_refused(member, frozen):
    member.phone = "13800138000"
    db.session.commit()
    with pytest.raises(phones.PhoneUnchanged):
        issue(member, now=frozen)
