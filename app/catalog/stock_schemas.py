"""What the integrator API's stock batch may send (strict: `"2"` and `true` are not integers)."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from app.catalog.inventory import MAX_QUANTITY
from app.core.schemas import Input

MAX_BATCH = 1000


class StockLineInput(Input):
    sku_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    sku_code: str | None = Field(default=None, min_length=1, max_length=40)
    quantity: int = Field(ge=0, le=MAX_QUANTITY)

    @model_validator(mode="after")
    def _one_reference(self):
        if (self.sku_id is None) == (self.sku_code is None):
            raise PydanticCustomError("sku_reference", "give sku_id or sku_code, not both")
        return self


class StockBatchInput(Input):
    items: list[StockLineInput] = Field(min_length=1, max_length=MAX_BATCH)


class ProductsQuery(BaseModel):
    """GET /products?page=&per_page= (query text: numbers are read from text)."""
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    page: int = Field(default=1, ge=1, le=1_000_000)
    per_page: int = Field(default=50, ge=1, le=200)
