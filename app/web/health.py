from flask import Blueprint, jsonify

from app.core.database import ping
from app.extensions import allowance

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """200 while the database answers (what the load balancer must know); a Redis that does not answer
    makes it "degraded", still 200: tries are counted in the database meanwhile (app.core.allowance)."""
    body = {"status": "ok", "database": "ok"}
    redis = allowance.redis_reachable()  # None without Redis; not asked again while known down
    if redis is not None:
        body["redis"] = "ok" if redis else "unreachable"
        if not redis:
            body["status"] = "degraded"
    try:
        ping()
    except Exception as exc:  # any failure to reach the database is "unhealthy"
        return jsonify(dict(body, status="unavailable", database=type(exc).__name__)), 503
    return jsonify(body)
