"""Parsing input at the edge with pydantic; any problem becomes `bad_request` naming the field.

Schemas are strict: a string is not a number, a bool or a float is not an integer. The sentences are ours,
in the caller's language (pydantic's own are English only), one per pydantic error type, with a fallback
that still names the field."""
from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from app.core.errors import BadRequest
from app.core.i18n import current_lang

M = TypeVar("M", bound=BaseModel)

# pydantic error type -> (Chinese, English) predicate; {…} are filled from the error's context.
PHRASES: dict[str, tuple[str, str]] = {
    "missing": ("为必填项", "is required"),
    "extra_forbidden": ("不是可接受的字段", "is not a known field"),
    "string_type": ("应为字符串", "must be a string"),
    "int_type": ("应为整数", "must be a whole number"),
    "bool_type": ("应为布尔值", "must be true or false"),
    "list_type": ("应为数组", "must be an array"),
    "dict_type": ("应为对象", "must be an object"),
    "model_type": ("应为对象", "must be an object"),
    "none_required": ("应为 null", "must be null"),
    "string_too_short": ("至少 {min_length} 个字符", "must have at least {min_length} characters"),
    "string_too_long": ("最多 {max_length} 个字符", "must have at most {max_length} characters"),
    "too_short": ("至少 {min_length} 项", "must have at least {min_length} items"),
    "too_long": ("最多 {max_length} 项", "must have at most {max_length} items"),
    "greater_than_equal": ("应不小于 {ge}", "must be at least {ge}"),
    "greater_than": ("应大于 {gt}", "must be greater than {gt}"),
    "less_than_equal": ("应不大于 {le}", "must be at most {le}"),
    "less_than": ("应小于 {lt}", "must be less than {lt}"),
    "string_unsafe": ("含有不允许的字符", "contains a character that is not allowed"),
    "yuan": ("应为金额（元），最多两位小数", "must be an amount in yuan with at most two decimals"),
    "string_pattern_mismatch": ("含有不允许的字符", "contains a character that is not allowed"),
}
FALLBACK = ("的值无效", "has an invalid value")


def _sentence(field: str, error: dict, lang: str) -> str:
    zh, en = PHRASES.get(error["type"], FALLBACK)
    try:
        phrase = (en if lang == "en" else zh).format(**error.get("ctx", {}))
    except (KeyError, IndexError):
        phrase = en if lang == "en" else zh
    if error["type"] == "string_too_short" and error.get("ctx", {}).get("min_length") == 1:
        phrase = "must not be empty" if lang == "en" else "不能为空"
    if lang == "en":
        return f"Field {field} {phrase}."
    return f"字段 {field} {phrase}。"


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        # NUL and lone surrogates cannot be stored (PostgreSQL refuses them) and no honest client sends them.
        texts = value if isinstance(value, list) else [value]
        for text in texts:
            if isinstance(text, str) and ("\x00" in text or any("\ud800" <= c <= "\udfff" for c in text)):
                raise PydanticCustomError("string_unsafe", "contains a character that is not allowed")
        return value


def parse(model: type[M], data) -> M:
    if data is None or not isinstance(data, dict):
        raise BadRequest(field="body", zh="请求体必须是 JSON 对象。", en="The body must be a JSON object.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lang = current_lang()
        problems = [(".".join(str(p) for p in e["loc"]) or "body", e) for e in exc.errors()]
        field, first = problems[0]
        raise BadRequest(field=field, zh=_sentence(field, first, "zh"), en=_sentence(field, first, "en"),
                         errors=[{"field": f, "message": _sentence(f, e, lang)} for f, e in problems]) from None


class FormInput(BaseModel):
    """A posted HTML form: every value arrives as text, so numbers are read from text (not strict), unknown
    fields are ignored (a page may carry more than the view reads), text is trimmed."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


def parse_form(model: type[M], form) -> M:
    """A form (a MultiDict of single values) through `model`; a problem is `bad_request` naming the field."""
    return parse(model, {k: form.get(k) for k in form.keys()})
