from flask import Blueprint, jsonify

from app.core.database import ping

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    try:
        ping()
    except Exception as exc:  # any failure to reach the database is "unhealthy"
        return jsonify({"status": "unavailable", "database": type(exc).__name__}), 503
    return jsonify({"status": "ok", "database": "ok"})
