"""Nicknames (issue #9 point 11): a typed demo nickname longer than allowed is refused with a message, not
cut silently; a WeChat profile name too long for the column ends with an ellipsis, never inside a character
(an emoji sequence, a combining mark)."""
from __future__ import annotations

import pytest

from app.members import service as members
from app.members.service import NicknameTooLong, fit_nickname


def test_short_names_are_kept_as_they_are():
    assert fit_nickname("  小明 ") == "小明"
    assert fit_nickname("a" * 64) == "a" * 64


def test_a_long_name_ends_with_an_ellipsis_within_the_limit():
    name = fit_nickname("拾" * 80)
    assert name == "拾" * 63 + "…" and len(name) == 64


@pytest.mark.parametrize("tail", ["👨\u200d👩\u200d👧", "e\u0301", "👍🏽", "❤\ufe0f"])
def test_the_cut_never_splits_a_character_the_reader_sees_as_one(tail):
    name = fit_nickname("x" * 62 + tail + "y" * 10)
    assert name.endswith("…") and len(name) <= 64
    assert name == "x" * 62 + "…"  # the whole cluster goes rather than half of it


def test_a_typed_demo_nickname_longer_than_allowed_is_refused(db, world):
    with pytest.raises(NicknameTooLong) as refused:
        members.demo_member(world.merchant.id, "名" * 33)
    assert refused.value.message("zh") == "昵称最多 32 个字，你输入了 33 个，请改短一些。"
    assert members.demo_member(world.merchant.id, "名" * 32).nickname == "名" * 32


def test_a_wechat_profile_name_too_long_is_stored_with_an_ellipsis(db, world):
    member = members.member_for_wechat(world.merchant.id, openid="o-long", nickname="🌸" * 70)
    assert member.nickname == "🌸" * 63 + "…"
    again = members.member_for_wechat(world.merchant.id, openid="o-long", nickname="小" * 65)
    assert again.nickname == "小" * 63 + "…"
