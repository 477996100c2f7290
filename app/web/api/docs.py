import json
from functools import lru_cache
from pathlib import Path

from flask import current_app, jsonify

from app.web.api import bp

SPEC = Path(__file__).with_name("openapi.json")


@lru_cache(maxsize=1)
def _spec() -> dict:
    return json.loads(SPEC.read_text(encoding="utf-8"))


@bp.get("/openapi.json")
def openapi():
    spec = dict(_spec())
    spec["servers"] = [{"url": current_app.config["APP_BASE_URL"] + "/api/v1"}]
    return jsonify(spec)
