"""What the shop's and the console's refund forms share: per-line quantities posted as `qty_<order line id>`,
each 0 … MAX_QUANTITY (an empty field is 0)."""
from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from app.core.schemas import FormInput
from app.orders.service import MAX_QUANTITY

_QTY = re.compile(r"^qty_(\d{1,10})$")


class LineQuantitiesForm(FormInput):
    quantities: dict[int, int] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _collect_quantities(cls, data: dict) -> dict:
        data = dict(data)
        data["quantities"] = {int(m.group(1)): v or 0 for k, v in data.items() if (m := _QTY.match(k))}
        return data

    @field_validator("quantities")
    @classmethod
    def _in_range(cls, value: dict[int, int]) -> dict[int, int]:
        for qty in value.values():
            if not 0 <= qty <= MAX_QUANTITY:
                raise ValueError("quantity out of range")
        return value
