"""The orders' and vouchers' console forms and list filters, parsed at the edge: views hand the domain
typed values, never `request.form` or `request.args`."""
from __future__ import annotations

from datetime import date

from pydantic import Field, field_validator

from app.core.schemas import FormInput
from app.web.line_forms import LineQuantitiesForm


def _blank_is_none(value):
    return None if value in ("", None) else value


class ConsoleRefundForm(LineQuantitiesForm):
    """整单退款 (`whole=1`) or by line (`qty_<order line id>`), with a reason."""

    reason: str = Field(default="", max_length=255)
    whole: bool = False


class ReasonForm(FormInput):
    reason: str = Field(default="", max_length=255)


class UndoForm(ReasonForm):
    redemption_id: int | None = Field(default=None, ge=1, le=2**31 - 1)

    _blank = field_validator("redemption_id", mode="before")(_blank_is_none)


class OrderArgs(FormInput):
    q: str = Field(default="", max_length=64)
    store: int | None = Field(default=None, ge=1, le=2**31 - 1)
    status: str = Field(default="", max_length=24)
    on: str = Field(default="created", max_length=24)
    day_from: date | None = Field(default=None, alias="from")
    day_to: date | None = Field(default=None, alias="to")
    pay: str = Field(default="", max_length=24)

    _blank = field_validator("store", "day_from", "day_to", mode="before")(_blank_is_none)


class VoucherArgs(FormInput):
    q: str = Field(default="", max_length=64)
    store: int | None = Field(default=None, ge=1, le=2**31 - 1)
    status: str = Field(default="", max_length=24)
    source: str = Field(default="", max_length=24)
    redeemed_on: date | None = None
    redeemed_at_store: int | None = Field(default=None, ge=1, le=2**31 - 1)

    _blank = field_validator("store", "redeemed_on", "redeemed_at_store", mode="before")(_blank_is_none)
