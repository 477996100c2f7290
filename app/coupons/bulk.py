"""Issuing a campaign's coupons to a CSV of phone numbers: a preview of what will happen per row, then the
issue itself, row by row, each in its own savepoint under the same race-safe claim (the preview only reads;
the claim decides, so a row the preview passed may still be refused if the quota ran out meanwhile)."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import sqlalchemy as sa

from app.core.errors import DomainError
from app.core.i18n import N_
from app.extensions import db
from app.members import phone as phones
from app.members.models import Member
from app.members.service import member_for_phone
from app.merchants import audit
from app.merchants.scope import Scope
from app.coupons.claim import claim, not_active
from app.coupons.models import Campaign, MemberClaims

MAX_ROWS = 5000


@dataclass(frozen=True)
class Row:
    line: int              # the CSV line number (1-based, the header counted)
    raw: str
    phone: str | None      # normalised; None when it is not a phone number
    member_id: int | None  # the member holding it, if any
    verdict: str           # issue, new_member, bad_phone, duplicate, member_limit, over_quota, not_active
    ok: bool


VERDICTS = {"issue": N_("发放给已有会员"), "new_member": N_("新建会员并发放"), "bad_phone": N_("手机号有误"),
            "duplicate": N_("与前面的行重复"), "member_limit": N_("已达每人限领"), "over_quota": N_("超出剩余总量"),
            "not_active": N_("活动不在领取期")}


def read_phones(data: bytes) -> list[tuple[int, str]]:
    """(line, first cell) of each non-empty row; a header row whose first cell is not digits is skipped."""
    text = data.decode("utf-8-sig", errors="replace")
    rows = []
    for number, cells in enumerate(csv.reader(io.StringIO(text)), start=1):
        cell = (cells[0] if cells else "").strip()
        if not cell or (number == 1 and not any(ch.isdigit() for ch in cell)):
            continue
        rows.append((number, cell[:40]))
        if len(rows) >= MAX_ROWS:
            break
    return rows


def preview(campaign: Campaign, rows: list[tuple[int, str]], *, now) -> list[Row]:
    out: list[Row] = []
    normal = {}
    for line, raw in rows:
        try:
            normal[line] = phones.normalise(raw)
        except DomainError:
            normal[line] = None
    known = dict(db.session.execute(sa.select(Member.phone, Member.id).where(
        Member.merchant_id == campaign.merchant_id, Member.phone.in_([p for p in normal.values() if p]))).all()) \
        if any(normal.values()) else {}
    claimed = dict(db.session.execute(sa.select(MemberClaims.member_id, MemberClaims.claimed).where(
        MemberClaims.campaign_id == campaign.id, MemberClaims.member_id.in_(list(known.values())))).all()) if known else {}
    left = None if campaign.quota is None else max(0, campaign.quota - campaign.claimed)
    inactive = not_active(campaign, now) is not None
    seen: set[str] = set()
    for line, raw in rows:
        phone = normal[line]
        member_id = known.get(phone) if phone else None
        if phone is None:
            verdict = "bad_phone"
        elif phone in seen:
            verdict = "duplicate"
        elif inactive:
            verdict = "not_active"
        elif campaign.per_member and claimed.get(member_id, 0) >= campaign.per_member:
            verdict = "member_limit"
        elif left is not None and left <= 0:
            verdict = "over_quota"
        else:
            verdict = "issue" if member_id else "new_member"
            if left is not None:
                left -= 1
        if phone:
            seen.add(phone)
        out.append(Row(line, raw, phone, member_id, verdict, verdict in ("issue", "new_member")))
    return out


def issue(scope: Scope, campaign: Campaign, phone_list: list[str]) -> tuple[int, dict[str, str]]:
    """Issues one coupon to each phone (normalised, deduplicated) in its own savepoint; returns how many
    were issued and {phone: the refusal's code} for the others."""
    issued, refused = 0, {}
    for phone in dict.fromkeys(phone_list):
        savepoint = db.session.begin_nested()
        try:
            member = member_for_phone(scope.merchant_id, phones.normalise(phone))
            claim(campaign, member.id)
        except DomainError as exc:
            savepoint.rollback()
            refused[phone] = exc.code
            continue
        savepoint.commit()
        issued += 1
    audit.record(scope, "campaign.issue_csv", "campaign", campaign.id,
                 after={"issued": issued, "refused": len(refused)})
    return issued, refused
