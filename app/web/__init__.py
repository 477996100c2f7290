"""The front doors: one blueprint package per audience, all thin."""
from flask import Flask


def register_blueprints(app: Flask) -> None:
    from app.web.api import bp as api_bp
    from app.web.counter import bp as counter_bp
    from app.web.health import bp as health_bp
    from app.web.payments import bp as payments_bp
    from app.web.shop import bp as shop_bp

    app.register_blueprint(health_bp)
    app.register_blueprint(shop_bp)
    app.register_blueprint(payments_bp)
    app.register_blueprint(counter_bp, url_prefix="/counter")
    app.register_blueprint(api_bp, url_prefix="/api/v1")
