"""The shop's forms, parsed at the edge: views hand the services typed values, never `request.form`."""
from __future__ import annotations

from pydantic import Field, field_validator

from app.core.schemas import FormInput
from app.orders.reviews import MAX_BODY
from app.web.line_forms import LineQuantitiesForm


class RefundForm(LineQuantitiesForm):
    """申请退款: a reason from the list (其他 with the shopper's own words), and per line `qty_<line id>`;
    no quantities, or all of every line, is the whole order."""

    reason: str = Field(default="", max_length=255)
    detail: str = Field(default="", max_length=255)


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
