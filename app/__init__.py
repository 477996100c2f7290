"""Application factory: config, extensions, blueprints, error handlers, CLI. Nothing connects at import."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None, *, instance_path: str | Path | None = None) -> Flask:
    from app.config import load_config

    instance = Path(instance_path) if instance_path else ROOT / "instance"
    app = Flask(
        __name__,
        instance_path=str(instance),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(load_config(instance))
    if config:
        app.config.update(config)
    app.json.ensure_ascii = False
    if app.config["PROXY_COUNT"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    from app.core import assets, compression, i18n, logging as applog, media, templating
    from app.core import database
    from app.extensions import allowance, db, migrate

    applog.init_app(app)
    db.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    allowance.init_app(app)
    i18n.init_app(app)
    templating.init_app(app)
    compression.init_app(app)
    assets.init_app(app)
    media.init_app(app)

    from app import models  # noqa: F401  (register every table on the metadata)
    from app.core import tasks
    from app.orders import receivers
    from app.coupons import receivers as coupon_receivers
    from app.catalog import tasks as _catalog_tasks  # noqa: F401
    from app.coupons import tasks as _coupon_tasks  # noqa: F401
    from app.orders import tasks as _order_tasks  # noqa: F401  (each domain declares its tasks)
    from app.payments import tasks as _payment_tasks  # noqa: F401
    from app.groupbuys import receivers as groupbuy_receivers
    from app.groupbuys import tasks as _groupbuy_tasks  # noqa: F401
    from app.presales import receivers as presale_receivers
    from app.presales import tasks as _presale_tasks  # noqa: F401

    receivers.connect()
    presale_receivers.connect()
    coupon_receivers.connect()
    groupbuy_receivers.connect()
    tasks.init_app(app)
    from app.web import register_blueprints
    from app.web.errors import init_app as init_errors

    register_blueprints(app)
    init_errors(app)

    from app.cli import init_app as init_cli

    init_cli(app)
    return app
