"""The front doors: one blueprint package per audience, all thin."""
from flask import Flask, g, request

from app.core.errors import Forbidden

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def _fresh_request_cache():
    # Who is signed in is cached on `g` for one request only (tests keep one app context across requests).
    for key in ("staff", "members"):
        g.pop(key, None)


def _same_origin():
    """Forms are protected by SameSite=Lax cookies; refuse a cross-site POST outright when the browser says
    where it came from. The JSON API (bearer keys) and webhooks (signed) are not cookie-authenticated."""
    if request.method not in UNSAFE or request.path.startswith(("/api/", "/webhooks/")):
        return
    origin = request.headers.get("Origin")
    if origin and origin != "null" and origin.rstrip("/") != request.host_url.rstrip("/"):
        raise Forbidden(zh="请求来源不是本站，已拒绝。", en="Cross-site request refused.", origin=origin)


def register_blueprints(app: Flask) -> None:
    from app.web.api import bp as api_bp
    from app.web.console import bp as console_bp
    from app.web.counter import bp as counter_bp
    from app.web.health import bp as health_bp
    from app.web.media import bp as media_bp
    from app.web.payments import bp as payments_bp
    from app.web import csrf, limits, sessions
    from app.web.converters import IdConverter
    from app.web.shop import bp as shop_bp

    app.url_map.converters["id"] = IdConverter  # before any rule that uses <id:...> is added
    sessions.init_app(app)
    limits.init_app(app)  # sizes, JSON depth, NUL characters: before anything reads the request
    app.before_request(_fresh_request_cache)
    app.before_request(_same_origin)
    csrf.init_app(app)
    app.register_blueprint(health_bp)
    app.register_blueprint(media_bp)
    app.register_blueprint(shop_bp)
    app.register_blueprint(payments_bp)
    app.register_blueprint(counter_bp, url_prefix="/counter")
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    app.register_blueprint(console_bp, url_prefix="/console")
