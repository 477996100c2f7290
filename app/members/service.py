"""Members: find or create by WeChat identity, demo sign-in, and the points ledger."""
from __future__ import annotations

import unicodedata

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.core.clock import now_utc
from app.core.database import insert_ignoring_conflict
from app.core.errors import BadRequest
from app.extensions import db
from app.members.models import Member, PointsEntry


NICKNAME_COLUMN = 64  # members.nickname
DEMO_NICKNAME_MAX = 32  # what the demo sign-in lets a person type
_JOINERS = {"\u200d", "\ufe0e", "\ufe0f", "\u20e3"}  # zero-width joiner, variation selectors, keycap


class NicknameTooLong(BadRequest):
    zh = "昵称最多 {max} 个字，你输入了 {n} 个，请改短一些。"
    en = "A nickname has at most {max} characters; this one has {n}. Please shorten it."


def _continues(ch: str) -> bool:
    """True for a code point that belongs to the character before it (a combining mark, a joiner, an emoji
    modifier or variation selector): a cut just before it would split what the reader sees as one."""
    return bool(unicodedata.combining(ch)) or ch in _JOINERS or 0x1F3FB <= ord(ch) <= 0x1F3FF \
        or 0xE0020 <= ord(ch) <= 0xE007F


def fit_nickname(name: str, limit: int = NICKNAME_COLUMN) -> str:
    """A profile name (from WeChat) as stored: whole when it fits, else cut to `limit` with an ellipsis, at
    the start of a character the reader sees as one (an emoji sequence or an accented letter stays whole or
    goes)."""
    name = (name or "").strip()
    if len(name) <= limit:
        return name
    end = limit - 1  # room for the ellipsis
    # Step back while name[end] continues the character before it, or follows a joiner (👨‍👩‍👧).
    while end > 0 and (_continues(name[end]) or name[end - 1] == "\u200d"):
        end -= 1
    return name[:end].rstrip() + "…"


def member_for_wechat(merchant_id: int, *, openid: str, unionid: str | None = None, nickname: str = "",
                      avatar_url: str = "") -> Member:
    """One member per openid (and per unionid when WeChat gives one). A known unionid wins and the member
    takes the openid it signed in with. Safe when two sign-ins race: the unique constraint decides and the
    loser reads the winner's row."""
    if unionid:
        by_union = db.session.execute(
            sa.select(Member).where(Member.merchant_id == merchant_id, Member.unionid == unionid)
        ).scalar_one_or_none()
        if by_union is not None:
            if by_union.openid != openid:
                _take_openid(by_union, openid)
            return _refresh_profile(by_union, nickname, avatar_url)
    db.session.execute(insert_ignoring_conflict(Member, dict(
        merchant_id=merchant_id, openid=openid, unionid=unionid, nickname=fit_nickname(nickname),
        avatar_url=avatar_url[:512], points=0, is_demo=False, created_at=now_utc(),
    ), ["merchant_id", "openid"]))
    member = db.session.execute(
        sa.select(Member).where(Member.merchant_id == merchant_id, Member.openid == openid)
    ).scalar_one()
    if unionid and member.unionid is None:
        member.unionid = unionid
    return _refresh_profile(member, nickname, avatar_url)


def _take_openid(member: Member, openid: str) -> None:
    """The member signed in through the configured account with another openid (the merchant moved to a new
    official account; an openid is per appid): keep the new one, since JSAPI payments need the openid of the
    appid that pays. If another member already holds it (signed in before WeChat gave a unionid), the two are
    a merge for the merchant to decide, so nothing changes."""
    try:
        with db.session.begin_nested():
            member.openid = openid
            db.session.flush()
    except IntegrityError:
        db.session.refresh(member)


def _refresh_profile(member: Member, nickname: str, avatar_url: str) -> Member:
    if nickname:
        member.nickname = fit_nickname(nickname)
    if avatar_url:
        member.avatar_url = avatar_url[:512]
    db.session.flush()
    return member


def name_of(member_id: int | None) -> str | None:
    """How every screen names a member (Member.display_name: the nickname, else 会员<id>); None for no member.
    The counter shows this before and after redeeming, so a customer has one name there."""
    if member_id is None:
        return None
    member = db.session.get(Member, member_id)
    return member.display_name if member is not None else f"会员{member_id}"


def demo_member(merchant_id: int, nickname: str) -> Member:
    """The simulated WeChat sign-in of the embedded default: a member per nickname, marked as demo. A typed
    nickname longer than DEMO_NICKNAME_MAX is refused (NicknameTooLong), not cut without a word."""
    nickname = nickname.strip()
    if len(nickname) > DEMO_NICKNAME_MAX:
        raise NicknameTooLong(field="nickname", max=DEMO_NICKNAME_MAX, n=len(nickname))
    nickname = nickname or "演示顾客"
    member = member_for_wechat(merchant_id, openid=f"demo:{nickname}", nickname=nickname)
    member.is_demo = True
    db.session.flush()
    return member


def one_at_a_time(member_id: int) -> None:
    """Hold this member's row until the transaction ends, so that a per-member limit counted after it cannot be
    passed by the member's own parallel requests (two taps, two tabs): the second waits for the first to
    commit, then counts what it wrote. A write, not a SELECT … FOR UPDATE: on SQLite only a write takes the
    lock (the database's), and it must be taken before the count is read."""
    db.session.execute(sa.update(Member).where(Member.id == member_id).values(id=Member.id)
                       .execution_options(synchronize_session=False))


def change_points(member_id: int, delta: int, *, reason: str, ref: str) -> int | None:
    """Adds (or, negative, takes away) points once per `ref`; taking never goes below zero. The balance
    changes in the same transaction as its ledger row. Returns the new balance, or None when this `ref`
    was already applied."""
    claimed = db.session.execute(insert_ignoring_conflict(PointsEntry, dict(
        member_id=member_id, delta=0, balance_after=0, reason=reason[:120], ref=ref, created_at=now_utc(),
    ), ["member_id", "ref"]).returning(PointsEntry.id)).scalar()
    if claimed is None:
        return None
    # Row lock (PostgreSQL); on SQLite the claim above already holds the write lock.
    before = db.session.execute(
        sa.select(Member.points).where(Member.id == member_id).with_for_update()
    ).scalar_one()
    applied = max(delta, -before)
    db.session.execute(
        sa.update(Member).where(Member.id == member_id).values(points=Member.points + applied)
        .execution_options(synchronize_session=False))
    db.session.execute(
        sa.update(PointsEntry).where(PointsEntry.id == claimed)
        .values(delta=applied, balance_after=before + applied).execution_options(synchronize_session=False))
    member = db.session.identity_map.get(db.session.identity_key(Member, member_id))
    if member is not None:
        db.session.expire(member, ["points"])
    return before + applied


def member_for_phone(merchant_id: int, phone: str) -> Member:
    """The merchant's member holding `phone` (normalised by the caller), made when none does: a coupon sent to
    a number not yet known waits there. Safe when two sends race: the unique (merchant, phone) decides."""
    db.session.execute(insert_ignoring_conflict(Member, dict(
        merchant_id=merchant_id, phone=phone, nickname="", avatar_url="", points=0, is_demo=False,
        created_at=now_utc()), ["merchant_id", "phone"]))
    return db.session.execute(
        sa.select(Member).where(Member.merchant_id == merchant_id, Member.phone == phone)).scalar_one()
