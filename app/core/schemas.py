"""Parsing input at the edge with pydantic; any problem becomes `bad_request` naming the field."""
from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from app.core.errors import BadRequest

M = TypeVar("M", bound=BaseModel)


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def parse(model: type[M], data) -> M:
    if data is None or not isinstance(data, dict):
        raise BadRequest(field="body", zh="请求体必须是 JSON 对象。", en="The body must be a JSON object.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        raise BadRequest(field=field, zh=f"字段 {field} 有误：{first['msg']}。",
                         en=f"Field {field}: {first['msg']}.", errors=[
                             {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
                         ]) from None
