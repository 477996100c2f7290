from __future__ import annotations

from typing import Annotated

from pydantic import Field

from app.core.schemas import Input

INT_MAX = 2**31 - 1  # our integer columns (32-bit on PostgreSQL)
RowId = Annotated[int, Field(ge=1, le=INT_MAX)]


class IssueVoucher(Input):
    title: str = Field(min_length=1, max_length=120)
    handover: str | None = Field(default=None, max_length=255)
    uses: int = Field(default=1, ge=1, le=1000)
    min_interval_seconds: int | None = Field(default=None, ge=1, le=366 * 86400)
    valid_from: str | None = None
    valid_until: str | None = None
    valid_days: int | None = Field(default=None, ge=1, le=3660)
    store_ids: list[RowId] | None = Field(default=None, max_length=1000)
    value_fen: int | None = Field(default=None, ge=0, le=INT_MAX)
    note: str | None = Field(default=None, max_length=255)
    reference: str | None = Field(default=None, max_length=64)


class Present(Input):
    code: str = Field(min_length=1, max_length=2048)
    uses: int = Field(default=1, ge=1, le=1000)
    # The bill in fen (分), for a coupon whose discount depends on it (满减, 折扣); ignored for other vouchers.
    amount_fen: int | None = Field(default=None, ge=0, le=INT_MAX)


class Redeem(Present):
    idempotency_key: str | None = Field(default=None, max_length=64)


class Undo(Input):
    reason: str = Field(min_length=1, max_length=255)


class Revoke(Input):
    reason: str = Field(min_length=1, max_length=255)
