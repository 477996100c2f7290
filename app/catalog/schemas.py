"""What the console's catalog forms (and the product CSV import) may send, parsed at the edge with
app.core.schemas.parse. Form fields are text and coerced on purpose (FormInput).

Prices: a string is yuan as typed on screen ("28", "28.5", "28.50"), an integer is fen. The form fields are
`price` and `member_price`; `price_fen` and `member_price_fen` are accepted too. The rules about prices
(not negative, member price at most the price) are app.catalog.editing's, not the schema's."""
from __future__ import annotations

from pydantic import AliasChoices, Field, field_validator
from pydantic_core import PydanticCustomError

from app.core.money import parse_yuan
from app.merchants.schemas import FormInput

SKU_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/-]*$"


def _blank_is_none(value):
    return None if isinstance(value, str) and not value.strip() else value


def _fen(value):
    """'28.50' -> 2850; an int is already fen; anything else is left to pydantic's own refusal."""
    if isinstance(value, str):
        try:
            return parse_yuan(value)
        except ValueError:
            raise PydanticCustomError("yuan", "must be an amount in yuan with at most two decimals") from None
    return value


class CategoryInput(FormInput):
    name: str = Field(min_length=1, max_length=60)
    sort: int = Field(default=0, ge=-1_000_000, le=1_000_000)

    @field_validator("sort", mode="before")
    @classmethod
    def _blank_sort(cls, value):
        return 0 if _blank_is_none(value) is None else value


class CategoryOrderInput(FormInput):
    """Category ids in the order the shop shows them."""
    ids: list[int] = Field(min_length=1, max_length=500)


class ProductInput(FormInput):
    name: str = Field(min_length=1, max_length=120)
    category_id: int | None = None
    description: str = Field(default="", max_length=4000)
    featured: bool = False
    active: bool = False  # published (上架): shown in the shop when it has an active SKU

    @field_validator("category_id", mode="before")
    @classmethod
    def _no_category(cls, value):
        return _blank_is_none(value)


class SkuInput(FormInput):
    name: str = Field(min_length=1, max_length=60)
    code: str | None = Field(default=None, max_length=40, pattern=SKU_CODE_PATTERN)  # 货号
    price_fen: int = Field(validation_alias=AliasChoices("price", "price_fen"))
    member_price_fen: int | None = Field(default=None, validation_alias=AliasChoices("member_price",
                                                                                     "member_price_fen"))
    active: bool = True

    @field_validator("code", mode="before")
    @classmethod
    def _code(cls, value):
        return _blank_is_none(value)

    @field_validator("price_fen", mode="before")
    @classmethod
    def _price(cls, value):
        return _fen(value)

    @field_validator("member_price_fen", mode="before")
    @classmethod
    def _member_price(cls, value):
        return _fen(_blank_is_none(value))
