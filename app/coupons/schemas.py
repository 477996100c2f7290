"""What the console's campaign form sends, parsed at the edge into a CampaignSpec (amounts typed in yuan
become fen here; an empty box is "no limit" or "not set")."""
from __future__ import annotations

from datetime import datetime

from pydantic import Field, field_validator

from app.core.clock import parse_instant
from app.core.errors import BadRequest
from app.core.money import parse_yuan
from app.core.schemas import FormInput
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
