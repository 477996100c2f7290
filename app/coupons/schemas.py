"""What the console's campaign form and the JSON API send, parsed at the edge into a CampaignSpec (amounts
typed in yuan become fen here; an empty box is "no limit" or "not set"; the API is strict and speaks fen)."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from app.core.clock import parse_instant
from app.core.errors import BadRequest
from app.core.money import parse_yuan
from app.core.schemas import FormInput, Input
from app.coupons.campaigns import CampaignSpec
from app.coupons.models import CampaignStatus, CampaignType

INT_MAX = 2**31 - 1


def _blank_none(value):
    return None if isinstance(value, str) and not value.strip() else value


class CampaignForm(FormInput):
    name: str = Field(default="", max_length=60)
    rules_text: str = Field(default="", max_length=500)
    type: CampaignType
    value_yuan: str = ""
    threshold_yuan: str = ""
    percent_off: int | None = Field(default=None, ge=1, le=99)
    cap_yuan: str = ""
    sku_id: int | None = Field(default=None, ge=1, le=INT_MAX)
    uses: int = Field(default=1, ge=1, le=1000)
    min_interval_minutes: int | None = Field(default=None, ge=1, le=525_600)
    quota: int | None = Field(default=None, ge=0, le=INT_MAX)
    per_member: int | None = Field(default=None, ge=1, le=10_000)
    per_member_per_day: int | None = Field(default=None, ge=1, le=10_000)
    claim_starts_at: str = ""
    claim_ends_at: str = ""
    validity: str = Field(default="days", pattern="^(days|dates)$")
    days_after_claim: int | None = Field(default=None, ge=1, le=3660)
    valid_from: str = ""
    valid_until: str = ""
    store_ids: list[int] = Field(default_factory=list, max_length=1000)
    product_ids: list[int] = Field(default_factory=list, max_length=1000)
    category_ids: list[int] = Field(default_factory=list, max_length=1000)
    online: bool = False
    counter: bool = False
    with_member_price: bool = False
    transferable: bool = False
    draft: bool = False

    _blanks = field_validator("percent_off", "sku_id", "min_interval_minutes", "quota", "per_member",
                              "per_member_per_day", "days_after_claim", mode="before")(_blank_none)

    def spec(self) -> CampaignSpec:
        return CampaignSpec(
            name=self.name, rules_text=self.rules_text, type=self.type,
            value_fen=_fen(self.value_yuan, "value_yuan"), threshold_fen=_fen(self.threshold_yuan, "threshold_yuan"),
            percent_off=self.percent_off, cap_fen=_fen(self.cap_yuan, "cap_yuan"), sku_id=self.sku_id,
            uses=self.uses, min_interval_minutes=self.min_interval_minutes, quota=self.quota,
            per_member=self.per_member, per_member_per_day=self.per_member_per_day,
            claim_starts_at=_instant(self.claim_starts_at, "claim_starts_at"),
            claim_ends_at=_instant(self.claim_ends_at, "claim_ends_at"),
            days_after_claim=self.days_after_claim if self.validity == "days" else None,
            valid_from=_instant(self.valid_from, "valid_from") if self.validity == "dates" else None,
            valid_until=_instant(self.valid_until, "valid_until", end=True) if self.validity == "dates" else None,
            store_ids=tuple(self.store_ids), product_ids=tuple(self.product_ids),
            category_ids=tuple(self.category_ids), online=self.online, counter=self.counter,
            with_member_price=self.with_member_price, transferable=self.transferable,
            status=CampaignStatus.DRAFT if self.draft else CampaignStatus.ACTIVE,
        )


def _fen(text: str, field: str) -> int | None:
    if not text.strip():
        return None
    try:
        fen = parse_yuan(text)
    except ValueError:
        raise BadRequest(field=field, zh="金额格式有误（如 12.50）。", en="Write amounts like 12.50.") from None
    if fen <= 0 or fen > INT_MAX:
        raise BadRequest(field=field, zh="金额须大于 0。", en="An amount must be above 0.")
    return fen


def _instant(text: str, field: str, *, end: bool = False) -> datetime | None:
    """A date (the start, or with `end` the end, of that Shanghai day) or a datetime-local (Shanghai)."""
    if not text.strip():
        return None
    try:
        return parse_instant(text, end_of_date=end)
    except ValueError:
        raise BadRequest(field=field, zh="日期或时间格式有误。", en="Wrong date or time.") from None


def form_data(form) -> dict:
    """A posted MultiDict as CampaignForm reads it: lists for the id boxes, checkboxes as booleans."""
    data = {k: form.get(k) for k in form.keys() if k not in ("store_ids", "product_ids", "category_ids", "csrf_token")}
    for name in ("store_ids", "product_ids", "category_ids"):
        data[name] = [v for v in form.getlist(name) if v.strip()]
    for name in ("online", "counter", "with_member_price", "transferable", "draft"):
        data[name] = form.get(name) in ("1", "on", "true")
    return data


# ------------------------------------------------------------------------------------ the JSON API (strict)


class ValidDates(Input):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True, populate_by_name=True)
    from_: str | None = Field(default=None, alias="from", max_length=40)
    until: str = Field(max_length=40)


class ValidDays(Input):
    days_after_claim: int = Field(ge=1, le=3660)


class CampaignRequest(Input):
    request_no: str = Field(min_length=1, max_length=64)
    type: Literal["cash_off", "threshold", "percent", "exchange", "punch"]
    name: str = Field(min_length=1, max_length=60)
    rules_text: str = Field(default="", max_length=500)
    value_fen: int | None = Field(default=None, ge=1, le=INT_MAX)
    threshold_fen: int | None = Field(default=None, ge=1, le=INT_MAX)
    percent_off: int | None = Field(default=None, ge=1, le=99)
    cap_fen: int | None = Field(default=None, ge=1, le=INT_MAX)
    sku_id: int | None = Field(default=None, ge=1, le=INT_MAX)
    uses: int = Field(default=1, ge=1, le=1000)
    min_interval_minutes: int | None = Field(default=None, ge=1, le=525_600)
    quota: int | None = Field(ge=0, le=INT_MAX)
    per_member: int | None = Field(ge=1, le=10_000)
    per_member_per_day: int | None = Field(ge=1, le=10_000)
    valid: ValidDates | ValidDays
    stores: list[int] | None = Field(max_length=1000)
    products: list[int] | None = Field(max_length=1000)
    categories: list[int] | None = Field(max_length=1000)
    online: bool
    counter: bool
    transferable: bool
    with_member_price: bool = True

    @model_validator(mode="after")
    def _ids_in_range(self):
        for name in ("stores", "products", "categories"):
            for value in getattr(self, name) or []:
                if not 1 <= value <= INT_MAX:
                    raise ValueError(f"{name} holds an id out of range")
        return self

    def spec(self) -> CampaignSpec:
        dates = self.valid if isinstance(self.valid, ValidDates) else None
        return CampaignSpec(
            name=self.name, type=CampaignType(self.type), rules_text=self.rules_text, value_fen=self.value_fen,
            threshold_fen=self.threshold_fen, percent_off=self.percent_off, cap_fen=self.cap_fen, sku_id=self.sku_id,
            uses=self.uses, min_interval_minutes=self.min_interval_minutes, quota=self.quota,
            per_member=self.per_member, per_member_per_day=self.per_member_per_day,
            valid_from=_api_instant(dates.from_, "valid.from") if dates else None,
            valid_until=_api_instant(dates.until, "valid.until", end=True) if dates else None,
            days_after_claim=None if dates else self.valid.days_after_claim,
            store_ids=tuple(self.stores or ()), product_ids=tuple(self.products or ()),
            category_ids=tuple(self.categories or ()), online=self.online, counter=self.counter,
            with_member_price=self.with_member_price, transferable=self.transferable,
            status=CampaignStatus.ACTIVE, request_no=self.request_no,
        )


EARLIEST, LATEST = 2000, 3000


def _api_instant(text: str | None, field: str, *, end: bool = False) -> datetime | None:
    if text is None:
        return None
    try:
        value = parse_instant(text, end_of_date=end)
    except (ValueError, OverflowError):
        raise BadRequest(field=field, zh=f"{field} 不是 ISO-8601 时间。", en=f"{field} is not ISO-8601.") from None
    if not EARLIEST <= value.year < LATEST:
        raise BadRequest(field=field, zh=f"{field} 须在 2000 年至 2999 年之间。",
                         en=f"{field} must be in the years 2000 to 2999.")
    return value


class ByPhone(Input):
    phone: str = Field(min_length=1, max_length=20)


class ByOpenid(Input):
    openid: str = Field(min_length=1, max_length=64)


class ById(Input):
    id: int = Field(ge=1, le=INT_MAX)


class GrantRequest(Input):
    member: ByPhone | ByOpenid | ById
    request_no: str = Field(min_length=1, max_length=64)
