"""The shop's forms, parsed at the edge: views hand the services typed values, never `request.form`."""
from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from app.core.schemas import FormInput
from app.orders.reviews import MAX_BODY
from app.orders.service import MAX_QUANTITY

_QTY = re.compile(r"^qty_(\d{1,10})$")


class RefundForm(FormInput):
    """申请退款: a reason from the list (其他 with the shopper's own words), and per line `qty_<line id>`;
    no quantities, or all of every line, is the whole order."""

    reason: str = Field(default="", max_length=255)
    detail: str = Field(default="", max_length=255)
    quantities: dict[int, int] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _collect_quantities(cls, data: dict) -> dict:
        data = dict(data)
        data["quantities"] = {int(m.group(1)): v for k, v in data.items() if (m := _QTY.match(k))}
        return data

    @field_validator("quantities")
    @classmethod
    def _in_range(cls, value: dict[int, int]) -> dict[int, int]:
        for qty in value.values():
            if not 0 <= qty <= MAX_QUANTITY:
                raise ValueError("quantity out of range")
        return value

    @property
    def full_reason(self) -> str:
        if self.reason == "其他" and self.detail:
            return self.detail
        return f"{self.reason}：{self.detail}" if self.detail and self.reason else self.reason


class ReviewForm(FormInput):
    """评价: stars (anything else reads as none chosen: the service says to choose 1 to 5) and a text."""

    rating: int = 0
    body: str = Field(default="", max_length=MAX_BODY)

    @field_validator("rating", mode="before")
    @classmethod
    def _stars(cls, value) -> int:
        try:
            return int(value)
        except (TypeError, ValueError):
            return 0
